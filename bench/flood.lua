-- Every request from another client address: X-Forwarded-For 10.x.y.z counting up
-- (loopback, where wrk runs, is a trusted proxy by default). 16M addresses before a repeat.
-- wrk's LuaJIT is Lua 5.1: no bitwise operators.
local n = 0
request = function()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
                           math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = ip })
end
