"""nftables mode: nft JSON / text parsing, correlation through the service maps, checks."""
