//! What connection recovery keeps of the broadcasts: the server's journal,
//! which keeps each recent broadcast once, as its recovering members get it
//! (its number appended), and each recovering socket's history, the numbers
//! of the broadcasts it was sent. A socket that comes back is sent the
//! journal's packets for the numbers in its history after the last one its
//! client saw.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use socketioxide::handler::Value;

/// The server's recent broadcasts, each once, oldest first, bounded in bytes
/// and age.
pub(crate) struct Journal {
    kept: Mutex<Kept>,
    max_bytes: usize,
    max_age: Duration,
}

#[derive(Default)]
struct Kept {
    /// By increasing number: broadcasts are numbered, and reach their first
    /// recovering member, in one order.
    packets: VecDeque<(u64, Value, Instant)>,
    bytes: usize,
}

fn len(packet: &Value) -> usize {
    match packet {
        Value::Str(text, _) => text.len(),
        Value::Bytes(bytes) => bytes.len(),
    }
}

impl Journal {
    pub(crate) fn new(max_bytes: usize, max_age: Duration) -> Self {
        Self {
            kept: Mutex::default(),
            max_bytes: max_bytes.max(1),
            max_age,
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `packet`, the broadcast numbered `sequence`, as a recovering member
    /// gets it: with its number appended as a last argument. Made and kept
    /// once per broadcast: socketioxide hands a broadcast to its members one
    /// after the other on one thread, so the thread remembers the last one
    /// (with the packet it was made from, which keeps that packet's memory
    /// from being reused for another broadcast).
    pub(crate) fn marked(&self, packet: &Value, sequence: u64) -> Value {
        thread_local! {
            static LAST: std::cell::RefCell<Option<(u64, Value, Value)>> =
                const { std::cell::RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| {
            if let Some((number, made_from, made)) = last.as_ref()
                && *number == sequence
                && same_packet(made_from, packet)
            {
                return made.clone();
            }
            let made = match packet {
                Value::Str(text, None) => {
                    match sails_protocol::recovery::with_offset(text, sequence) {
                        Some(marked) => Value::Str(marked.into(), None),
                        None => packet.clone(),
                    }
                }
                other => other.clone(),
            };
            self.keep(sequence, made.clone());
            *last = Some((sequence, packet.clone(), made.clone()));
            made
        })
    }

    fn keep(&self, sequence: u64, packet: Value) {
        let now = Instant::now();
        let mut kept = self.kept();
        if kept
            .packets
            .back()
            .is_some_and(|(last, _, _)| *last >= sequence)
        {
            return;
        }
        kept.bytes += len(&packet);
        kept.packets.push_back((sequence, packet, now));
        while let Some((_, oldest, at)) = kept.packets.front() {
            if kept.bytes <= self.max_bytes && now.duration_since(*at) <= self.max_age {
                break;
            }
            kept.bytes -= len(oldest);
            kept.packets.pop_front();
        }
    }

    /// The packets numbered `sequences` (increasing), or `None` for those
    /// no longer kept.
    pub(crate) fn packets(&self, sequences: impl IntoIterator<Item = u64>) -> Vec<Option<Value>> {
        let kept = self.kept();
        sequences
            .into_iter()
            .map(|sequence| {
                kept.packets
                    .binary_search_by_key(&sequence, |(number, _, _)| *number)
                    .ok()
                    .map(|index| kept.packets[index].1.clone())
            })
            .collect()
    }
}

fn same_packet(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(a, _), Value::Str(b, _)) => std::ptr::eq(a.as_str(), b.as_str()),
        (Value::Bytes(a), Value::Bytes(b)) => std::ptr::eq(a.as_ref(), b.as_ref()),
        _ => false,
    }
}

/// The numbers of the broadcasts one socket was sent, oldest first, at most
/// `max_events` of them.
pub(crate) struct History {
    sequences: VecDeque<u64>,
    /// The newest number dropped for the bound (0: none).
    dropped_through: u64,
    max_events: usize,
}

/// The history no longer holds every broadcast after the client's offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trimmed;

impl History {
    pub(crate) fn new(max_events: usize) -> Self {
        Self {
            sequences: VecDeque::new(),
            dropped_through: 0,
            max_events: max_events.max(1),
        }
    }

    /// Keeps `sequence` unless it has it (or a later one) already; `false`
    /// for a repeat.
    pub(crate) fn record(&mut self, sequence: u64) -> bool {
        if self.sequences.back().is_some_and(|last| *last >= sequence) {
            return false;
        }
        self.sequences.push_back(sequence);
        if self.sequences.len() > self.max_events
            && let Some(dropped) = self.sequences.pop_front()
        {
            self.dropped_through = dropped;
        }
        true
    }

    /// Takes out the numbers after `offset`, oldest first.
    pub(crate) fn take_after(&mut self, offset: u64) -> Result<Vec<u64>, Trimmed> {
        if self.dropped_through > offset {
            return Err(Trimmed);
        }
        Ok(self
            .sequences
            .drain(..)
            .filter(|sequence| *sequence > offset)
            .collect())
    }

    /// Puts the numbers of an earlier connection ahead of the ones recorded
    /// since (a number it has already is skipped).
    pub(crate) fn restore(&mut self, earlier: Vec<u64>) {
        let first_here = self.sequences.front().copied().unwrap_or(u64::MAX);
        let recorded = std::mem::take(&mut self.sequences);
        for sequence in earlier.into_iter().filter(|s| *s < first_here) {
            self.record(sequence);
        }
        for sequence in recorded {
            self.record(sequence);
        }
    }

    /// Every number kept, oldest first.
    pub(crate) fn sequences(&self) -> impl Iterator<Item = u64> + '_ {
        self.sequences.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &Value) -> &str {
        match value {
            Value::Str(text, _) => text.as_str(),
            Value::Bytes(_) => panic!("a text packet"),
        }
    }

    fn packet(text: &str) -> Value {
        Value::Str(String::from(text).into(), None)
    }

    #[test]
    fn a_broadcast_is_marked_and_kept_once_for_all_its_members() {
        let journal = Journal::new(1 << 20, Duration::from_secs(60));
        let news = packet(r#"2["news",1]"#);
        let first = journal.marked(&news, 7);
        let second = journal.marked(&news.clone(), 7);
        assert_eq!(text(&first), r#"2["news",1,{"__sails_offset":7}]"#);
        assert!(
            std::ptr::eq(text(&first), text(&second)),
            "shared, not copied"
        );
        assert_eq!(journal.kept().packets.len(), 1);

        // The same text in another packet is another broadcast.
        let other = packet(r#"2["news",1]"#);
        let third = journal.marked(&other, 8);
        assert_eq!(text(&third), r#"2["news",1,{"__sails_offset":8}]"#);
        let found = journal.packets([7, 8, 9]);
        assert_eq!(text(found[0].as_ref().unwrap()), text(&first));
        assert_eq!(text(found[1].as_ref().unwrap()), text(&third));
        assert!(found[2].is_none());

        // Packets that cannot carry a number are kept as they are.
        let binary = Value::Bytes(axum::body::Bytes::from_static(b"\x01"));
        assert!(matches!(journal.marked(&binary, 10), Value::Bytes(_)));
    }

    #[test]
    fn the_journal_keeps_what_its_bounds_allow() {
        let journal = Journal::new(60, Duration::from_secs(60));
        for sequence in 1..=5 {
            journal.marked(&packet(r#"2["n",1]"#), sequence);
        }
        // Each marked packet is 29 bytes: two fit.
        let found = journal.packets(1..=5);
        let kept: Vec<bool> = found.iter().map(Option::is_some).collect();
        assert_eq!(kept, [false, false, false, true, true]);

        let ageless = Journal::new(1 << 20, Duration::ZERO);
        ageless.marked(&packet(r#"2["n",1]"#), 1);
        std::thread::sleep(Duration::from_millis(2));
        ageless.marked(&packet(r#"2["n",2]"#), 2);
        assert!(
            ageless.packets([1])[0].is_none(),
            "older than the age bound"
        );
    }

    #[test]
    fn a_history_keeps_its_last_numbers_and_knows_what_it_dropped() {
        let mut history = History::new(3);
        for sequence in [2, 4, 6, 8] {
            assert!(history.record(sequence));
        }
        assert!(!history.record(8), "a repeat");
        assert!(!history.record(5), "an older one");
        assert_eq!(history.take_after(1), Err(Trimmed));
        assert_eq!(history.take_after(2), Ok(vec![4, 6, 8]));

        let mut earlier = History::new(10);
        for sequence in [3, 5, 7] {
            earlier.record(sequence);
        }
        let mut here = History::new(10);
        here.record(7);
        here.record(9);
        here.restore(earlier.take_after(3).unwrap());
        assert_eq!(here.sequences().collect::<Vec<_>>(), [5, 7, 9]);
    }
}
