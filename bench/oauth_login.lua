-- POSTs a provider-token login to provider $GH_PROVIDER: with GH_COLD=1 each request's
-- token is new (the userinfo cache never answers), else the same token every time.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local provider = os.getenv("GH_PROVIDER")
local cold = os.getenv("GH_COLD") == "1"
local n = 0
local thread_id = tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local token = cold and ("cold-" .. thread_id .. "-" .. n) or "warm-token"
  return wrk.format(nil, nil, nil,
    '{"provider":"' .. provider .. '","access_token":"' .. token .. '"}')
end
