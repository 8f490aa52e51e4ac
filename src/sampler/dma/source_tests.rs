use super::*;
use crate::config::BoardKind;

#[test]
fn the_own_mapping_is_refused_where_the_mailbox_exists() {
    // /dev/vcio exists: a Pi's kernel, whose DMA engine does not see the CPU's caches.
    let vcio = tempfile::NamedTempFile::new().expect("temp");
    let board = Board::emulated(BoardKind::Pi3);
    let err = match own_mapping(vcio.path(), 4096, &board) {
        Ok(_) => panic!("own-mapping accepted next to a mailbox device"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("own-mapping") && err.contains("never for a Raspberry Pi"),
        "{err}"
    );
}

#[test]
fn the_setting_reads_from_toml_and_defaults_to_uncached() {
    let s: SamplerConfig = toml::from_str("dma_memory = \"own-mapping\"").expect("parse");
    assert_eq!(s.dma_memory, CpuView::OwnMapping);
    assert_eq!(SamplerConfig::default().dma_memory, CpuView::Uncached);
    assert!(toml::from_str::<SamplerConfig>("dma_memory = \"cached\"").is_err());
}
