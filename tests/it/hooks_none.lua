-- Fixture for --check: no hooks at all (the C echo does everything).
local unused = 1
