-- Chains refresh tokens: each wrk thread (one connection each) starts from its own
-- token, read from the file in $GH_REFRESH_FILE (line = thread number), and uses the
-- refresh token of every answer for the next request (a refresh token works once).
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local i = 0
  for line in io.lines(os.getenv("GH_REFRESH_FILE")) do
    i = i + 1
    if i == id then token = line end
  end
end

function request()
  return wrk.format("POST", "/api/v1/auth/refresh", {["Content-Type"] = "application/json"},
                    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    token = body:match('"refresh_token":"([^"]+)"')
  end
end
