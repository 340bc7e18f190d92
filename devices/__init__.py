"""Device adapters: each turns one kind of hardware into Taps and shows Decisions."""
