//! Signal generators: synthetic pin waveforms for the demo, tests and the emulator.
