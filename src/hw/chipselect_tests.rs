use super::*;

fn chip(n: u32, label: &str, lines: u32) -> ChipInfo {
    ChipInfo {
        path: PathBuf::from(format!("/dev/gpiochip{n}")),
        name: format!("gpiochip{n}"),
        label: label.into(),
        lines,
    }
}

fn pi5() -> Vec<ChipInfo> {
    // A Pi 5 on a 6.6 kernel: the header chip is gpiochip4 (gpiochip0 on later kernels).
    vec![
        chip(0, "gpio-brcmstb@107d508500", 32),
        chip(1, "gpio-brcmstb@107d508520", 4),
        chip(4, "pinctrl-rp1", 54),
    ]
}

#[test]
fn header_chip_labels_per_soc() {
    assert_eq!(header_label(Soc::Bcm2712), "pinctrl-rp1");
    assert_eq!(header_label(Soc::Bcm2711), "pinctrl-bcm2711");
    for soc in [Soc::Bcm2835, Soc::Bcm2836, Soc::Bcm2837] {
        assert_eq!(header_label(soc), "pinctrl-bcm2835");
    }
}

#[test]
fn chosen_by_label_name_or_path() {
    let chips = pi5();
    assert_eq!(choose("pinctrl-rp1", &chips).map(|c| c.lines), Ok(54));
    assert_eq!(
        choose("gpiochip4", &chips).map(|c| &c.label[..]),
        Ok("pinctrl-rp1")
    );
    assert_eq!(
        choose("/dev/gpiochip1", &chips).map(|c| c.lines),
        Ok(4),
        "a path is matched as a path"
    );
}

#[test]
fn a_missing_chip_lists_what_there_is() {
    let e = choose("pinctrl-bcm2711", &pi5()).expect_err("not on a Pi 5");
    assert!(e.contains("pinctrl-bcm2711"), "{e}");
    assert!(e.contains("/dev/gpiochip4 (pinctrl-rp1)"), "{e}");
    let e = choose("/dev/gpiochip9", &pi5()).expect_err("no such path");
    assert!(e.contains("/dev/gpiochip9"), "{e}");
}

#[test]
fn no_chips_at_all_is_said_plainly() {
    let e = choose("pinctrl-rp1", &[]).expect_err("nothing to open");
    assert!(e.contains("no GPIO character devices"), "{e}");
}

#[test]
fn offsets_beyond_the_chip_are_refused_by_number() {
    let c = chip(1, "gpio-brcmstb@107d508520", 4);
    assert_eq!(check_offsets(&c, &[0, 3]), Ok(()));
    let e = check_offsets(&c, &[2, 4, 9]).expect_err("line 4 does not exist");
    assert!(
        e.starts_with("pin 4 is not a line of /dev/gpiochip1"),
        "{e}"
    );
    assert!(e.contains("lines 0-3"), "{e}");
}
