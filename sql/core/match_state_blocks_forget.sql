-- Forget the stored sizes of the blocks an incremental run changed (their sizes this run are inserted again).
-- Grain: deletes the rows of core.match_state_blocks of each block in _match_state_block_sizes(rule, kh1, kh2,
-- size), written by tasks/dedupe/incremental.py. Parameters: none.
delete from core.match_state_blocks as stored
using _match_state_block_sizes as changed
where stored.rule = changed.rule
    and stored.kh1 = changed.kh1
    and stored.kh2 = changed.kh2
