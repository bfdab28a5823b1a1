-- Fixture: a Lua module beside rt_sandbox.lua, for require.
return {answer = 42}
