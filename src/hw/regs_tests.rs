//! Unit tests of `regs`.

use super::*;

/// The figures docs/hardware.md gives, typed in again by hand: the map must match them.
#[test]
fn offsets_match_the_datasheet_figures() {
    assert_eq!(st::BASE + st::CLO, 0x3004);
    assert_eq!(dma::BASE, 0x7000);
    assert_eq!(dma::channel_offset(5), 0x7500);
    assert_eq!(dma::channel_offset(14), 0x7E00);
    assert_eq!(dma::channel_offset(15), 0xE0_5000);
    assert_eq!(
        [
            dma::CS,
            dma::CONBLK_AD,
            dma::TI,
            dma::SOURCE_AD,
            dma::DEST_AD
        ],
        [0x00, 0x04, 0x08, 0x0C, 0x10]
    );
    assert_eq!(
        [dma::TXFR_LEN, dma::STRIDE, dma::NEXTCONBK, dma::DEBUG],
        [0x14, 0x18, 0x1C, 0x20]
    );
    assert_eq!(cm::BASE, 0x10_1000);
    assert_eq!(
        [cm::PCMCTL, cm::PCMDIV, cm::PWMCTL, cm::PWMDIV],
        [0x98, 0x9C, 0xA0, 0xA4]
    );
    assert_eq!(gpio::BASE + gpio::GPLEV0, 0x20_0034);
    assert_eq!(gpio::BASE + gpio::GPLEV1, 0x20_0038);
    assert_eq!(pcm::BASE + pcm::FIFO_A, 0x20_3004);
    assert_eq!(pwm::BASE + pwm::FIF1, 0x20_C018);
    assert_eq!(cm::PASSWD, 0x5A00_0000);
}

#[test]
fn bits_match_the_datasheet_figures() {
    assert_eq!(dma::CS_ACTIVE | dma::CS_END | dma::CS_ERROR, 0b1_0000_0011);
    assert_eq!(dma::CS_ABORT, 0x4000_0000);
    assert_eq!(dma::CS_RESET, 0x8000_0000);
    assert_eq!(dma::CS_WAIT_FOR_OUTSTANDING_WRITES, 0x1000_0000);
    assert_eq!(dma::TI_DEST_INC, 0x10);
    assert_eq!(dma::TI_DEST_DREQ, 0x40);
    assert_eq!(dma::TI_SRC_INC, 0x100);
    assert_eq!(dma::TI_NO_WIDE_BURSTS, 0x0400_0000);
    assert_eq!(dma::ti_permap(dma::PERMAP_PWM), 0x5_0000);
    assert_eq!(dma::ti_permap(dma::PERMAP_PCM_TX), 0x2_0000);
    assert_eq!(cm::SRC_PLLD, 6);
    assert_eq!(place(5, cm::DIV_DIVI_SHIFT, cm::DIV_DIVI_WIDTH), 0x5000);
    assert_eq!(field(0x5A00_5006, 12, 12), 5);
}

#[test]
fn bus_addresses_of_peripherals() {
    assert_eq!(periph_bus(0x3F20_0034), 0x7E20_0034);
    assert_eq!(periph_bus(0xFE20_C018), 0x7E20_C018);
    assert_eq!(periph_bus(0x2000_3004), 0x7E00_3004);
    assert_eq!(periph_phys(0x7E20_0034, 0xFE00_0000), 0xFE20_0034);
    assert!(dma::is_lite(7) && dma::is_lite(14) && !dma::is_lite(6) && !dma::is_lite(15));
    assert_eq!(dma::txfr_len_2d(4, 1), 4);
    assert_eq!(dma::txfr_len_2d(4, 3), 0x0002_0004);
}
