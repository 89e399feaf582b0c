//! Byte-level mutations in the manner of AFL and libFuzzer: bit flips,
//! interesting values (0, −1, the sign bits, large counts) written as bytes
//! and as 16/32-bit integers of either order, deletions, duplications,
//! insertions, truncation and splices with another seed.

use rand::Rng;

const INTERESTING_8: [u8; 9] = [0, 1, 0x7f, 0x80, 0xff, b'0', b'9', b'-', b'"'];
const INTERESTING_32: [u32; 8] = [
    0,
    1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x0001_0000,
    0x4000_0000,
    65_535,
];

/// One to four random mutations of `data`, splicing from `other` sometimes.
pub fn mutate<R: Rng>(data: &[u8], other: &[u8], rng: &mut R) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        apply(&mut out, other, rng);
    }
    out
}

fn apply<R: Rng>(out: &mut Vec<u8>, other: &[u8], rng: &mut R) {
    let len = out.len();
    if len == 0 {
        out.extend((0..rng.random_range(1..16)).map(|_| rng.random::<u8>()));
        return;
    }
    let at = rng.random_range(0..len);
    match rng.random_range(0..9) {
        0 => out[at] ^= 1 << rng.random_range(0..8),
        1 => out[at] = INTERESTING_8[rng.random_range(0..INTERESTING_8.len())],
        2 => out[at] = rng.random(),
        3 if at + 4 <= len => {
            let v = INTERESTING_32[rng.random_range(0..INTERESTING_32.len())];
            let bytes = if rng.random_bool(0.5) {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            out[at..at + 4].copy_from_slice(&bytes);
        }
        4 if at + 2 <= len => {
            let v: u16 = [0, 1, 0x7fff, 0x8000, 0xffff][rng.random_range(0..5)];
            out[at..at + 2].copy_from_slice(&v.to_le_bytes());
        }
        5 => {
            let n = rng.random_range(1..=(len - at).min(64));
            out.drain(at..at + n);
        }
        6 => {
            let n = rng.random_range(1..=(len - at).min(64));
            let chunk: Vec<u8> = out[at..at + n].to_vec();
            let to = rng.random_range(0..=out.len());
            out.splice(to..to, chunk);
        }
        7 => out.truncate(at),
        _ if !other.is_empty() => {
            let from = rng.random_range(0..other.len());
            let n = rng.random_range(1..=(other.len() - from).min(256));
            let to = rng.random_range(0..=out.len());
            out.splice(to..to, other[from..from + n].iter().copied());
        }
        _ => out.insert(at, rng.random()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn mutations_change_the_input_and_depend_on_the_seed_only() {
        let data: Vec<u8> = (0..200u8).collect();
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..50)
                .map(|_| mutate(&data, b"other seed", &mut rng))
                .collect::<Vec<_>>()
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a, run(2));
        assert!(a.iter().filter(|m| **m != data).count() >= 45);
        // An empty input grows.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert!(!mutate(&[], &[], &mut rng).is_empty());
    }
}
