//! Progress bars on stderr for long work (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

/// A progress bar fed by the core's progress callback.
pub struct Bar {
    bar: ProgressBar,
    /// Last stage shown, so the bar is re-labelled only when the stage changes.
    stage: Mutex<String>,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(1000)
        };
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>14} [{bar:30}] {percent:>3}% {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar {
            bar,
            stage: Mutex::new(String::new()),
        }
    }

    /// The callback to hand to the core.
    pub fn update(&self, stage: &str, fraction: f32) {
        if let Ok(mut s) = self.stage.lock() {
            if *s != stage {
                *s = stage.to_string();
                self.bar.set_message(stage.to_string());
            }
        }
        self.bar.set_position((fraction * 1000.0) as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
