//! Test double for memory and registers: every access the code under test makes is logged,
//! in order, across all regions sharing one log, and anything a Device mapping on arm64 would
//! fault on (an unaligned or out-of-range word) fails the test on the spot.

use std::cell::RefCell;
use std::rc::Rc;

use super::access::Words;
use super::barrier::Barrier;
use super::channel::ChannelRegs;

/// One access, as the hardware would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A 32-bit load from `region` at byte `offset`.
    Read {
        /// Region name.
        region: &'static str,
        /// Byte offset in the region.
        offset: u64,
    },
    /// A 32-bit store.
    Write {
        /// Region name.
        region: &'static str,
        /// Byte offset in the region.
        offset: u64,
        /// The value stored.
        value: u32,
    },
    /// A barrier.
    Barrier(Barrier),
}

/// The shared, ordered log of accesses.
pub type Log = Rc<RefCell<Vec<Access>>>;

/// A named region of words whose accesses go to a shared [`Log`].
#[derive(Debug)]
pub struct Region {
    name: &'static str,
    words: RefCell<Vec<u32>>,
    log: Log,
}

impl Region {
    /// A region of `words` zeroed words logging into `log`.
    pub fn new(name: &'static str, words: usize, log: &Log) -> Region {
        Region {
            name,
            words: RefCell::new(vec![0; words]),
            log: log.clone(),
        }
    }

    /// Sets a word without logging (test set-up).
    pub fn poke(&self, offset: u64, value: u32) {
        let i = self.index(offset);
        self.words.borrow_mut()[i] = value;
    }

    /// Reads a word without logging (test checks).
    pub fn peek(&self, offset: u64) -> u32 {
        let i = self.index(offset);
        self.words.borrow()[i]
    }

    fn index(&self, offset: u64) -> usize {
        let len = self.words.borrow().len() as u64 * 4;
        assert!(
            offset % 4 == 0,
            "{}: unaligned 32-bit access at {offset:#x}: SIGBUS on a Device mapping",
            self.name
        );
        assert!(
            offset + 4 <= len,
            "{}: access at {offset:#x} outside {len:#x} bytes",
            self.name
        );
        (offset / 4) as usize
    }
}

impl Words for Region {
    fn read32(&self, offset: u64) -> u32 {
        let v = self.peek(offset);
        self.log.borrow_mut().push(Access::Read {
            region: self.name,
            offset,
        });
        v
    }

    fn write32(&self, offset: u64, value: u32) {
        self.poke(offset, value);
        self.log.borrow_mut().push(Access::Write {
            region: self.name,
            offset,
            value,
        });
    }

    fn barrier(&self, b: Barrier) {
        self.log_barrier(b);
    }
}

impl Region {
    fn log_barrier(&self, b: Barrier) {
        self.log.borrow_mut().push(Access::Barrier(b));
    }
}

impl ChannelRegs for Region {
    fn barrier(&self, b: Barrier) {
        self.log_barrier(b);
    }

    fn read32(&self, off: u64) -> u32 {
        Words::read32(self, off)
    }

    fn write32(&self, off: u64, v: u32) {
        Words::write32(self, off, v)
    }
}

/// A fresh shared log.
pub fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}
