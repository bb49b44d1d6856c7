"""HTTP surfaces: the app factory, the envelope, and one router per surface."""
