// The panel's entry point: the Photoshop host, the app, and UXP's entrypoints.

import { App } from './app.js';
import { photoshopHost } from './ps-adapter.js';

photoshopHost.registerPanel(() => new App(photoshopHost, document).start());
