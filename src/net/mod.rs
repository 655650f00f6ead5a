//! Pure facts about the network that both sides of the probe/verdict seam need: which
//! addresses are public. No I/O here.

pub mod address;
