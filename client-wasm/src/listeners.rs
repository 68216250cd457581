//! The page's event listeners, kept apart from the client's own handlers.
//!
//! Listeners live on the socket object, not on one connection: they survive
//! `disconnect()` + `reconnect()` and automatic reconnections, and
//! `removeAllListeners()` only drops what the page added.

/// Event listeners in the order they were added, generic over the handler
/// type (a JS function in the browser, anything comparable in tests).
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

impl<H: Clone + PartialEq> Listeners<H> {
    /// Adds a listener for `event` (the same handler may be added twice).
    pub fn add(&mut self, event: &str, handler: H) {
        self.entries.push((event.to_owned(), handler));
    }

    /// Removes the first registration of `handler` for `event`.
    pub fn remove(&mut self, event: &str, handler: &H) {
        if let Some(at) = self
            .entries
            .iter()
            .position(|(name, h)| name == event && h == handler)
        {
            self.entries.remove(at);
        }
    }

    /// Removes every listener of `event`.
    pub fn remove_event(&mut self, event: &str) {
        self.entries.retain(|(name, _)| name != event);
    }

    /// Removes every listener.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The handlers of `event`, copied so that they may add or remove
    /// listeners while being called.
    pub fn handlers(&self, event: &str) -> Vec<H> {
        self.entries
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, h)| h.clone())
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
        assert_eq!(listeners.handlers("order"), [1, 3, 1]);
        assert_eq!(listeners.handlers("connect"), [2]);
        assert!(listeners.handlers("none").is_empty());
    }

    #[test]
    fn remove_takes_the_first_match_of_that_event_only() {
        let mut listeners = Listeners::default();
        listeners.add("a", 1);
        listeners.add("b", 1);
        listeners.add("a", 1);
        listeners.remove("a", &1);
        assert_eq!(listeners.handlers("a"), [1]);
        assert_eq!(listeners.handlers("b"), [1]);
        listeners.remove("a", &7);
        assert_eq!(listeners.len(), 2);
    }

    #[test]
    fn remove_event_and_clear() {
        let mut listeners = Listeners::default();
        listeners.add("a", 1);
        listeners.add("b", 2);
        listeners.remove_event("a");
        assert!(!listeners.has("a"));
        assert!(listeners.has("b"));
        listeners.clear();
        assert!(listeners.is_empty());
    }
}
