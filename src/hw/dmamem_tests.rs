//! Unit tests of `dmamem`.

use super::*;

#[test]
fn bus_aliases_map_to_the_same_physical_address() {
    assert_eq!(bus_to_phys(0xC010_0000), 0x10_0000);
    assert_eq!(bus_to_phys(0x4010_0000), 0x10_0000);
}
