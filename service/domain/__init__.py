"""Pure rules of the bidding room: no I/O, the clock is an argument."""
