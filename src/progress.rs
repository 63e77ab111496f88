//! What a slow step is doing, for the person waiting: the library names the step, the front
//! end shows it (a spinner on a terminal) or not at all (`--quiet`, no terminal, the agent,
//! the nushell plugin). Steps wrap only work that asks nothing of the person: a prompt never
//! runs under one.

use std::sync::Arc;

/// Where steps are shown.
pub trait Show: Send + Sync {
    /// `what` is under way, e.g. "unlocking the vault".
    fn begin(&self, what: &str);
    /// The step is over: its line is gone from the screen.
    fn end(&self);
}

/// The caller's display of steps, if it has one ([`crate::caller::Caller::progress`]).
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Show>>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(shown)"
        } else {
            "Progress(none)"
        })
    }
}

impl Progress {
    pub fn new(show: Arc<dyn Show>) -> Self {
        Self(Some(show))
    }

    /// Shows `what` until the returned guard is dropped.
    #[must_use = "the step ends when the guard is dropped"]
    pub fn step(&self, what: &str) -> Step<'_> {
        if let Some(s) = &self.0 {
            s.begin(what);
        }
        Step(self.0.as_deref())
    }

    pub fn is_shown(&self) -> bool {
        self.0.is_some()
    }
}

/// One step under way; it ends when dropped.
pub struct Step<'a>(Option<&'a dyn Show>);

impl Step<'_> {
    /// Ends the step now (before a prompt).
    pub fn end(self) {}
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.0 {
            s.end();
        }
    }
}

/// The steps as a spinner on stderr (the front ends' display of them); steps nest (an AWS call
/// inside a wait), and the line goes when the last one ends.
#[derive(Default)]
pub struct Spinner(std::sync::Mutex<(Vec<String>, Option<indicatif::ProgressBar>)>);

impl Show for Spinner {
    fn begin(&self, what: &str) {
        let Ok(mut s) = self.0.lock() else { return };
        s.0.push(what.to_owned());
        let bar = s.1.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} op-aws: {msg}…")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            bar
        });
        bar.set_message(crate::error::printable(what));
    }

    fn end(&self) {
        let Ok(mut s) = self.0.lock() else { return };
        s.0.pop();
        match s.0.last().cloned() {
            Some(what) => {
                if let Some(bar) = &s.1 {
                    bar.set_message(crate::error::printable(&what));
                }
            }
            None => {
                if let Some(bar) = s.1.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);

    impl Show for Record {
        fn begin(&self, what: &str) {
            self.0.lock().unwrap().push(format!("begin {what}"));
        }
        fn end(&self) {
            self.0.lock().unwrap().push("end".into());
        }
    }

    #[test]
    fn a_step_ends_when_dropped_and_none_shows_nothing() {
        let record = Arc::new(Record::default());
        let p = Progress::new(record.clone());
        {
            let _s = p.step("one");
        }
        p.step("two").end();
        assert_eq!(
            *record.0.lock().unwrap(),
            ["begin one", "end", "begin two", "end"]
        );
        let none = Progress::default();
        let _s = none.step("three");
        assert!(!none.is_shown());
    }
}
