"""Read nft's text forms into an NftRuleset.

Two forms, one reader:
- ``nft list table|ruleset`` output: ``table ip kube-proxy { chain … { rules } map … { elements = {…} } }``;
- the transaction form kube-proxy and ``nft -f`` scripts use: ``add table/chain/set/map/rule/element …``
  (as in kube-proxy's own test expectations).

Three steps, three modules: ``text_tokens`` (the lexer, shared with other readers of nft text),
``text_structure`` (tables, chains, sets, elements, commands) and ``text_statements`` (a rule's
statements -> the libnftables JSON shapes ``nft -j`` prints, so correlation reads one form).
"""

from __future__ import annotations

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.gc_pause import paused_gc
from kubectl_svcpath.modes.nftables.model import LazyChains, NftRuleset
from kubectl_svcpath.modes.nftables.text_index import Blocks, chain_blocks, check_quotes, counted, skeleton
from kubectl_svcpath.modes.nftables.text_structure import StructureReader


def parse_nft_text(text: str, source: str) -> NftRuleset:
    if "\x00" in text:
        raise BadDump(source, "binary data, not nft text")
    with paused_gc(len(text)):
        blocks = chain_blocks(text)
        if blocks:  # each found block is read when asked (text_index): what the lexer refuses is found now
            check_quotes(text, source)
        reader = StructureReader(skeleton(text, source, blocks), source, text, blocks)
        try:
            reader.read()
            _after_reading(reader, text, blocks)
        except ValueError:  # a number int() refuses (over 4,300 digits) outside a rule's statements
            raise BadDump(source, "a number that cannot be read (not nft output)", reader.line) from None
        reader.c.toks = []  # the tokens go before the caller holds the ruleset
    info = reader.info
    info.form = "nft-transaction" if reader.saw_command and not reader.saw_block else "nft-text"
    info.notices = [line.strip() for line in text.splitlines() if line.lstrip().startswith("# Warning")] \
        if "# Warning" in text else []
    return reader.ruleset


def _after_reading(reader: StructureReader, text: str, blocks: Blocks) -> None:
    """Chains a command changed after they were read stay as they are; the blocks that may hold a
    counter are read now (whether the input has counters is said before any chain is asked for)."""
    for table in reader.ruleset.tables.values():
        if isinstance(table.chains, LazyChains):
            table.chains.pin()
    for k in counted(text, blocks):
        found_in = reader.block_tables.get(k)
        if found_in is None or not isinstance(found_in.chains, LazyChains):
            continue
        chains = found_in.chains
        chain = chains.get(blocks[k][0])
        if chain is not None and any(r.counter is not None for r in chain.rules):
            chains.counted = True
