use super::*;
use std::path::PathBuf;

fn chip(n: u32, label: &str, lines: u32) -> ChipInfo {
    ChipInfo {
        path: PathBuf::from(format!("/dev/gpiochip{n}")),
        name: format!("gpiochip{n}"),
        label: label.into(),
        lines,
    }
}

fn pi(soc: Soc) -> BoardId {
    Ok((soc, format!("Raspberry Pi ({soc:?})")))
}

fn not_a_pi() -> BoardId {
    Err("not a Raspberry Pi".into())
}

#[test]
fn a_pi_1_to_4_where_dma_runs_gets_dma() {
    for soc in [Soc::Bcm2835, Soc::Bcm2836, Soc::Bcm2837, Soc::Bcm2711] {
        for chips in [false, true] {
            let r = recommend(&pi(soc), true, chips);
            assert_eq!(r.backend, Some(BackendKind::Dma), "{soc:?}");
        }
    }
}

#[test]
fn a_pi_5_gets_cdev() {
    let r = recommend(&pi(Soc::Bcm2712), false, true);
    assert_eq!(r.backend, Some(BackendKind::Cdev));
    assert!(r.why.contains("RP1"), "{}", r.why);
    // Even if the DMA check passed by some accident, its GPIO is out of the engine's reach.
    assert_eq!(
        recommend(&pi(Soc::Bcm2712), true, true).backend,
        Some(BackendKind::Cdev)
    );
}

#[test]
fn a_pi_4_without_dev_mem_falls_back_to_cdev() {
    let r = recommend(&pi(Soc::Bcm2711), false, true);
    assert_eq!(r.backend, Some(BackendKind::Cdev));
}

#[test]
fn another_board_with_chips_gets_cdev_naming_the_chip_setting() {
    let r = recommend(&not_a_pi(), false, true);
    assert_eq!(r.backend, Some(BackendKind::Cdev));
    assert!(r.why.contains("sampler.cdev.chip"), "{}", r.why);
}

#[test]
fn nothing_runs_without_chips_or_dma() {
    for board in [not_a_pi(), pi(Soc::Bcm2712), pi(Soc::Bcm2837)] {
        let r = recommend(&board, false, false);
        assert_eq!(r.backend, None);
        assert!(r.why.contains("emulated"), "{}", r.why);
    }
}

#[test]
fn the_cdev_finding_uses_the_boards_header_chip_by_default() {
    let chips = [
        chip(0, "gpio-brcmstb@107d508500", 32),
        chip(4, "pinctrl-rp1", 54),
    ];
    let f = cdev_finding(&pi(Soc::Bcm2712), None, &chips);
    assert!(f.ok, "{}", f.detail);
    assert!(
        f.detail.contains("/dev/gpiochip4 (pinctrl-rp1, 54 lines)"),
        "{}",
        f.detail
    );
    let f = cdev_finding(&pi(Soc::Bcm2711), None, &chips);
    assert!(!f.ok);
    assert!(f.detail.contains("pinctrl-bcm2711"), "{}", f.detail);
    let f = cdev_finding(&pi(Soc::Bcm2711), Some("gpiochip0"), &chips);
    assert!(f.ok, "a chip named in the config wins: {}", f.detail);
}

#[test]
fn the_cdev_finding_on_other_boards_asks_for_the_chip() {
    let chips = [chip(0, "tegra234-gpio", 164)];
    let f = cdev_finding(&not_a_pi(), None, &chips);
    assert!(!f.ok);
    assert!(f.detail.contains("sampler.cdev.chip"), "{}", f.detail);
    assert!(f.detail.contains("tegra234-gpio"), "{}", f.detail);
    assert!(cdev_finding(&not_a_pi(), Some("tegra234-gpio"), &chips).ok);
}

#[test]
fn no_chips_is_said_plainly() {
    let f = cdev_finding(&not_a_pi(), None, &[]);
    assert!(!f.ok);
    assert!(
        f.detail.contains("no GPIO character devices"),
        "{}",
        f.detail
    );
    let s = GpioSurvey::default().render();
    assert!(s.contains("none (no /dev/gpiochip*"), "{s}");
}

#[test]
fn the_survey_lists_chips_and_lines_with_their_users() {
    let s = GpioSurvey {
        chips: vec![
            (
                chip(0, "pinctrl-bcm2711", 3),
                Ok(vec![
                    LineInfo {
                        offset: 0,
                        name: "ID_SDA".into(),
                        consumer: String::new(),
                        used: false,
                    },
                    LineInfo {
                        offset: 1,
                        name: String::new(),
                        consumer: "edgetap".into(),
                        used: true,
                    },
                    LineInfo {
                        offset: 2,
                        name: "GPIO2".into(),
                        consumer: String::new(),
                        used: true,
                    },
                ]),
            ),
            (
                chip(1, "raspberrypi-exp-gpio", 8),
                Err("permission denied".into()),
            ),
        ],
        error: None,
    }
    .render();
    assert!(
        s.contains("/dev/gpiochip0  pinctrl-bcm2711  3 lines"),
        "{s}"
    );
    assert!(s.contains("      0 ID_SDA\n"), "{s}");
    assert!(s.contains("      1 -  in use by edgetap\n"), "{s}");
    assert!(s.contains("      2 GPIO2  in use\n"), "{s}");
    assert!(s.contains("lines unreadable: permission denied"), "{s}");
}
