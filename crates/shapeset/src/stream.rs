//! The online training stream: consecutive images of one seed.

use super::{batch, IMAGE_DIM};

/// Hands out images `next, next + 1, ...` of stream `seed`. Its whole state is two
/// numbers, so a checkpoint resumes it exactly with `Stream::new(seed, position)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    seed: u64,
    next: u64,
}

impl Stream {
    /// Starts at image `offset` of stream `seed`. Any seed but the two of the pinned
    /// evaluation sets (datasets/shapeset.toml, both >= 2^32), which it would replay.
    pub fn new(seed: u64, offset: u64) -> Self {
        Self { seed, next: offset }
    }

    /// The next `n` images (`n * IMAGE_DIM` bytes) and their labels.
    pub fn next_batch(&mut self, n: usize) -> (Vec<u8>, Vec<u8>) {
        let out = batch(self.seed, self.next, n);
        self.next += n as u64;
        out
    }

    /// Like `next_batch`, into caller-owned buffers (no allocation per minibatch).
    pub fn next_batch_into(&mut self, pixels: &mut [u8], labels: &mut [u8]) {
        assert_eq!(
            pixels.len(),
            labels.len() * IMAGE_DIM,
            "pixels must hold one image per label"
        );
        super::fill_batch(self.seed, self.next, pixels, labels);
        self.next += labels.len() as u64;
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Index of the next image to be handed out.
    pub fn position(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_batches_tile_one_big_batch() {
        let (all_x, all_y) = batch(9, 100, 25);
        let mut stream = Stream::new(9, 100);
        let (x1, y1) = stream.next_batch(10);
        let mut x2 = vec![0; 15 * IMAGE_DIM];
        let mut y2 = vec![0; 15];
        stream.next_batch_into(&mut x2, &mut y2);
        assert_eq!([x1, x2].concat(), all_x);
        assert_eq!([y1, y2].concat(), all_y);
        assert_eq!(stream.position(), 125);
        assert_eq!(
            Stream::new(9, stream.position()).next_batch(3),
            batch(9, 125, 3)
        );
    }
}
