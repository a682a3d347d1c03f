//! Where the data lives: `PITCHBAR_DATA_DIR` wins over the OS app-data dir.
//! (Its own test binary: it sets a process-wide variable.)

#[test]
fn the_environment_overrides_the_os_data_dir() {
    let os_dir = pitchbar_core::data_dir().unwrap();
    assert!(os_dir.ends_with(pitchbar_core::APP_ID), "{os_dir:?}");
    std::env::set_var("PITCHBAR_DATA_DIR", "/tmp/pitchbar-test-dir");
    assert_eq!(
        pitchbar_core::data_dir().unwrap(),
        std::path::PathBuf::from("/tmp/pitchbar-test-dir")
    );
    std::env::set_var("PITCHBAR_DATA_DIR", "");
    assert_eq!(pitchbar_core::data_dir().unwrap(), os_dir);
}
