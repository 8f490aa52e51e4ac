//! The VideoCore's side of the property mailbox: allocate, lock, unlock and release DRAM for the
//! agent's DMA memory, answered in place like the firmware does.

use crate::hw::mmio::Mapping;
use crate::hw::regs::{mbox, mem};

use super::board_file::{ALLOC_START, DRAM_BYTES};

/// A 4 KiB message window inside DRAM.
struct Window<'a> {
    m: &'a Mapping,
    at: u64,
}

impl Window<'_> {
    fn read32(&self, off: u64) -> u32 {
        self.m.read32(self.at + off)
    }
    fn write32(&self, off: u64, v: u32) {
        self.m.write32(self.at + off, v)
    }
}

/// One allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// Handle given to the agent.
    pub handle: u32,
    /// First physical address.
    pub phys: u64,
    /// Bytes.
    pub size: u64,
    /// The allocation flags asked for: they choose the bus alias `lock` answers with.
    pub flags: u32,
}

/// The bus alias the firmware answers a lock with, from the allocation's flags (the
/// firmware's MEM_FLAG_DIRECT = 4: uncached 0xC…, MEM_FLAG_COHERENT = 8: 0x8…, both
/// (MEM_FLAG_L1_NONALLOCATING, what a BCM2835 needs): 0x4…, neither: the cached 0x0… alias).
pub fn alias_for_flags(flags: u32) -> u32 {
    match flags & (mbox::MEM_FLAG_DIRECT | mbox::MEM_FLAG_COHERENT) {
        mbox::MEM_FLAG_DIRECT => mem::BUS_ALIAS_DIRECT,
        mbox::MEM_FLAG_COHERENT => 0x8000_0000,
        0 => 0,
        _ => mem::BUS_ALIAS_L2_COHERENT,
    }
}

/// What a property call did, for the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxAction {
    /// Memory handed out.
    Allocated(Allocation),
    /// Memory locked at a bus address.
    Locked(u32),
    /// Memory unlocked.
    Unlocked(u32),
    /// Memory given back.
    Released(Allocation),
    /// A tag the emulator does not serve.
    Unsupported(u32),
}

/// DRAM allocations above `ALLOC_START`.
#[derive(Debug, Default)]
pub struct Allocator {
    live: Vec<Allocation>,
    next_handle: u32,
}

impl Allocator {
    /// First fit between live allocations; None when DRAM is exhausted.
    fn allocate(&mut self, size: u64, align: u64, flags: u32) -> Option<Allocation> {
        let align = align.max(mem::PAGE_BYTES as u64).next_power_of_two();
        let size = size.div_ceil(mem::PAGE_BYTES as u64) * mem::PAGE_BYTES as u64;
        let mut live = self.live.clone();
        live.sort_by_key(|a| a.phys);
        let mut at = ALLOC_START;
        for a in &live {
            if at + size <= a.phys {
                break;
            }
            at = (a.phys + a.size).div_ceil(align) * align;
        }
        if size == 0 || at + size > DRAM_BYTES {
            return None;
        }
        self.next_handle += 1;
        let a = Allocation {
            handle: self.next_handle,
            phys: at,
            size,
            flags,
        };
        self.live.push(a);
        Some(a)
    }

    /// Allocations live now, and their bytes.
    pub fn live(&self) -> (u32, u64) {
        (
            self.live.len() as u32,
            self.live.iter().map(|a| a.size).sum(),
        )
    }

    /// The live allocation with `handle`.
    fn find(&self, handle: u32) -> Option<Allocation> {
        self.live.iter().copied().find(|a| a.handle == handle)
    }

    /// Answers the property message at physical `at` of `dram` (one or more tags), in place.
    pub fn serve(&mut self, dram: &Mapping, at: u64) -> Vec<MailboxAction> {
        let buf = Window { m: dram, at };
        let mut actions = Vec::new();
        let total = (buf.read32(0) as usize).min(4096) / 4;
        let mut i = 2;
        while i + 3 <= total {
            let tag = buf.read32(4 * i as u64);
            if tag == 0 {
                break;
            }
            let value_bytes = buf.read32(4 * (i + 1) as u64) as usize;
            let v = |k: usize| buf.read32(4 * (i + 3 + k) as u64);
            let answer = match tag {
                mbox::TAG_ALLOCATE => match self.allocate(u64::from(v(0)), u64::from(v(1)), v(2)) {
                    Some(a) => {
                        actions.push(MailboxAction::Allocated(a));
                        a.handle
                    }
                    None => 0,
                },
                mbox::TAG_LOCK => match self.find(v(0)) {
                    Some(a) => {
                        let bus = a.phys as u32 | alias_for_flags(a.flags);
                        actions.push(MailboxAction::Locked(a.handle));
                        bus
                    }
                    None => 0,
                },
                mbox::TAG_UNLOCK => {
                    actions.push(MailboxAction::Unlocked(v(0)));
                    u32::from(self.find(v(0)).is_none())
                }
                mbox::TAG_RELEASE => match self.find(v(0)) {
                    Some(a) => {
                        self.live.retain(|x| x.handle != a.handle);
                        actions.push(MailboxAction::Released(a));
                        0
                    }
                    None => 1,
                },
                other => {
                    actions.push(MailboxAction::Unsupported(other));
                    0
                }
            };
            if value_bytes >= 4 {
                buf.write32(4 * (i + 3) as u64, answer);
            }
            buf.write32(4 * (i + 2) as u64, mbox::TAG_RESPONSE | 4);
            i += 3 + value_bytes.div_ceil(4);
        }
        buf.write32(4, mbox::RESPONSE_OK);
        actions
    }
}

#[cfg(test)]
#[path = "mailbox_tests.rs"]
mod tests;
