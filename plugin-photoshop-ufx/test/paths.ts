// Where the tests find the panel's files (the tests run bundled from .build/test/).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** plugin-photoshop-ufx/ */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
