//! The evaluation sets pinned in datasets/shapeset.toml regenerate byte for byte.

use shapeset::{batch, GENERATOR, IMAGE_DIM};
use store::atomic::sha256_bytes;

#[test]
fn pinned_sets_regenerate_to_their_hashes() {
    let manifest = shapeset::manifest().unwrap();
    assert_eq!(manifest.generator, GENERATOR);
    for (name, set) in [("valid", &manifest.valid), ("test", &manifest.test)] {
        let (x, y) = batch(set.seed, set.offset, set.count);
        assert_eq!((x.len(), y.len()), (set.count * IMAGE_DIM, set.count));
        let (hash_x, hash_y) = (sha256_bytes(&x), sha256_bytes(&y));
        println!("[{name}] sha256_x = \"{hash_x}\" sha256_y = \"{hash_y}\"");
        assert_eq!(hash_x, set.sha256_x, "{name} x bytes changed");
        assert_eq!(hash_y, set.sha256_y, "{name} y bytes changed");
    }
}

#[test]
fn eval_sets_returns_the_pinned_sets_disjoint_from_each_other() {
    let manifest = shapeset::manifest().unwrap();
    let sets = shapeset::eval_sets().unwrap();
    assert_eq!(sets.valid.n, manifest.valid.count);
    assert_eq!(sets.test.n, manifest.test.count);
    assert_ne!(manifest.valid.seed, manifest.test.seed);
    // Different streams: no image of the first 100 valid ones reappears in the test set.
    let test_images: std::collections::HashSet<&[u8]> = sets.test.x.chunks(IMAGE_DIM).collect();
    let repeats = sets
        .valid
        .x
        .chunks(IMAGE_DIM)
        .take(100)
        .filter(|i| test_images.contains(i))
        .count();
    assert_eq!(repeats, 0);
    // Small run seeds (0, 1, 2, ...) must never replay an evaluation set.
    assert!(manifest.valid.seed >= 1 << 32 && manifest.test.seed >= 1 << 32);
}
