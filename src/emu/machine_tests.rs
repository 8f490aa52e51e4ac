use super::*;

#[test]
fn gplev1_has_a_bit_for_every_gpio_above_31() {
    assert_eq!(gplev1_mask(BoardKind::Pi3), 0x003F_FFFF, "GPIO 32-53");
    assert_eq!(gplev1_mask(BoardKind::Pi4), 0x03FF_FFFF, "GPIO 32-57");
}
