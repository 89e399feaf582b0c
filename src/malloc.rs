//! The process's allocator: jemalloc, keeping freed memory and backing large
//! blocks with transparent huge pages.
//!
//! A CPU training step allocates and frees tensors of up to 64 MiB (a
//! `[16, 64, 128, 128]` activation or gradient). glibc serves blocks above
//! 32 MiB with a fresh `mmap` each time, so every step faulted those pages in
//! again, 4 KiB at a time. `bench train --size 128 --batch 16` on the 2-vCPU
//! machine, 3 alternating runs: glibc (heap kept, 32 MiB mmap threshold)
//! 0.70–1.60 M page faults and 3.06–3.48 s/step; jemalloc with the settings
//! below 2,790–2,801 faults and 2.74–2.89 s/step. Without huge pages jemalloc
//! took 8.2 M faults and 4.5 s/step. Peak RSS rises by about 5 % (1.05 GB
//! against 1.00 GB); RSS no longer falls after a peak.

#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts: never return freed pages to the
/// kernel (`*_decay_ms:-1`), keep address space (`retain`) and ask for huge
/// pages (`thp:always`; a no-op where the kernel has them off). The
/// `_RJEM_MALLOC_CONF` environment variable can override each.
#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: &[u8] = b"dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true,thp:always\0";
