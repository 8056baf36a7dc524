"""A practice as a key group: one key pair per epoch, its private key wrapped for every member."""
