//! The replay sampler: samples a VCD signal at a fixed period, shaped exactly like DMA blocks.
