//! A quick pass of every reader: each seed is valid, and a few hundred
//! mutations end without a panic or an outsized allocation.

#[global_allocator]
static ALLOCATOR: fuzz::alloc::Measuring = fuzz::alloc::Measuring;

/// One test, so that nothing else allocates while the allocator measures.
#[test]
fn every_reader_survives_a_quick_fuzzing_pass() {
    measuring_allocator_sees_a_large_allocation();
    seeds_are_read_as_valid();
    let mut failures = Vec::new();
    for t in fuzz::targets::all() {
        let seeds = (t.seeds)();
        assert!(!seeds.is_empty(), "{}: no seed", t.name);
        let r = fuzz::fuzz(&t, fuzz::Budget::Executions(300), 1, &None);
        assert_eq!(r.executions, 300);
        assert!(
            r.outcomes >= 2,
            "{}: mutations reached only {} outcome",
            t.name,
            r.outcomes
        );
        for f in &r.findings {
            failures.push(format!(
                "{}: {} ({} byte input)",
                t.name,
                f.problem,
                f.input.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn seeds_are_read_as_valid() {
    let dir = tempfile::tempdir().expect("tmp");
    for t in fuzz::targets::all() {
        // Readers of configs that name missing folders or data refuse even a
        // valid seed for reasons other than its bytes.
        if ["compare-config", "run-folder", "manifest", "cifar"].contains(&t.name) {
            continue;
        }
        for seed in (t.seeds)() {
            let scratch = dir.path().join(t.name);
            std::fs::create_dir_all(&scratch).expect("mkdir");
            let outcome = (t.run)(&seed, &scratch);
            assert_eq!(outcome, "ok", "{}: its seed is refused", t.name);
        }
    }
}

fn measuring_allocator_sees_a_large_allocation() {
    fuzz::alloc::arm();
    let v: Vec<u8> = Vec::with_capacity(3 << 20);
    let largest = fuzz::alloc::disarm();
    drop(v);
    assert!(largest >= 3 << 20, "{largest}");
}
