#[test]
fn corpus() {
    for dir in ["rfc", "legacy", "thirdparty", "malformed"] {
        for e in std::fs::read_dir(format!("/work/shared/corpus/mail/{dir}")).unwrap() {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            let s = String::from_utf8_lossy(&bytes);
            let segs = helpdesk_core::quote::segments(&s);
            assert_eq!(segs.iter().map(|s| s.text).collect::<String>(), s);
            let q: Vec<_> = segs
                .iter()
                .filter(|s| s.kind != helpdesk_core::quote::SegmentKind::Text)
                .map(|s| {
                    (
                        s.kind,
                        s.text
                            .lines()
                            .next()
                            .unwrap_or("")
                            .chars()
                            .take(70)
                            .collect::<String>(),
                    )
                })
                .collect();
            if !q.is_empty() {
                println!("{}: {:?}", p.display(), q);
            }
        }
    }
}
