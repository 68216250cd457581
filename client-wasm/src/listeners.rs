//! The page's event listeners, kept apart from the client's own handlers.
//!
//! Listeners live on the socket object, not on one connection: they survive
//! `disconnect()` + `reconnect()` and automatic reconnections, and
//! `removeAllListeners()` only drops what the page added.

/// Event listeners in the order they were added, generic over the handler
/// type (in the browser, the key of the function among the socket's JS
/// values: `held`).
#[derive(Debug, Clone)]
pub struct Listeners<H> {
    entries: Vec<(String, H)>,
}

impl<H> Default for Listeners<H> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<H> Listeners<H> {
    /// Adds a listener for `event` (the same handler may be added twice).
    pub fn add(&mut self, event: &str, handler: H) {
        self.entries.push((event.to_owned(), handler));
    }

    /// Removes the first registration for `event` whose handler `is`, and
    /// returns its handler.
    pub fn remove(&mut self, event: &str, mut is: impl FnMut(&H) -> bool) -> Option<H> {
        let at = self
            .entries
            .iter()
            .position(|(name, h)| name == event && is(h))?;
        Some(self.entries.remove(at).1)
    }

    /// Removes every listener of `event`, or every listener, handing each
    /// removed handler to `removed`.
    pub fn remove_all(&mut self, event: Option<&str>, mut removed: impl FnMut(&H)) {
        self.entries.retain(|(name, h)| {
            let keep = event.is_some_and(|event| name != event);
            if !keep {
                removed(h);
            }
            keep
        });
    }

    /// The handlers of `event`, each through `f`, gathered so that they may
    /// add or remove listeners while being called.
    pub fn handlers<T>(&self, event: &str, f: impl FnMut(&H) -> T) -> Vec<T> {
        self.entries
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, h)| h)
            .map(f)
            .collect()
    }

    /// Whether anything listens to `event`.
    pub fn has(&self, event: &str) -> bool {
        self.entries.iter().any(|(name, _)| name == event)
    }

    /// How many listeners there are in all.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no listener at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_duplicates() {
        let mut listeners = Listeners::default();
        listeners.add("order", 1);
        listeners.add("connect", 2);
        listeners.add("order", 3);
        listeners.add("order", 1);
        assert_eq!(listeners.handlers("order", |&h| h), [1, 3, 1]);
        assert_eq!(listeners.handlers("connect", |&h| h), [2]);
        assert!(listeners.handlers("none", |&h| h).is_empty());
    }

    #[test]
    fn remove_takes_the_first_match_of_that_event_only() {
        let mut listeners = Listeners::default();
        listeners.add("a", 1);
        listeners.add("b", 1);
        listeners.add("a", 1);
        assert_eq!(listeners.remove("a", |&h| h == 1), Some(1));
        assert_eq!(listeners.handlers("a", |&h| h), [1]);
        assert_eq!(listeners.handlers("b", |&h| h), [1]);
        assert_eq!(listeners.remove("a", |&h| h == 7), None);
        assert_eq!(listeners.len(), 2);
    }

    #[test]
    fn remove_all_of_an_event_or_all() {
        let mut listeners = Listeners::default();
        listeners.add("a", 1);
        listeners.add("b", 2);
        listeners.add("a", 3);
        let mut removed = Vec::new();
        listeners.remove_all(Some("a"), |&h| removed.push(h));
        assert_eq!(removed, [1, 3]);
        assert!(!listeners.has("a"));
        assert!(listeners.has("b"));
        listeners.remove_all(None, |&h| removed.push(h));
        assert_eq!(removed, [1, 3, 2]);
        assert!(listeners.is_empty());
    }
}
