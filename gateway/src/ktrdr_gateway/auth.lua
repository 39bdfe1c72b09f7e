-- KTRDR edge authentication and authorization (Envoy Lua filter, LuaJIT).
-- Generated settings and lua_common.lua are prepended by ktrdr_gateway.envoy_config:
--   KEY_FILE, ENV_VAR, RELOAD_SECONDS, GRPC_ROLE, REST_ROLE, PUBLIC_PATHS, BODY_RULES,
--   QUERY_RULES, STREAM_RULES, MSGS, NAMES, REPEATED, AUTH_FAIL_PER_MINUTE, AUTH_FAIL_BURST
-- Keys are verified by SHA-256 against the hashed key store; plaintext keys are never written
-- anywhere and never logged. On success the request carries x-ktrdr-key-id / x-ktrdr-role
-- (client-supplied copies are removed by the header_mutation filter first) for rate limiting
-- and the services' logs.
-- Also here: the access-log path (query values dropped, keys redacted, bounded), the client's
-- request id (kept when it is a short token), a limit on failed authentications per client
-- address, strict JSON bodies and query strings, and the NDJSON framing of REST streams.

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex
local schar, srep, unpack = string.char, string.rep, unpack

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function sha256_hex(msg)
  local len = #msg
  local bits = len * 8
  msg = msg .. "\128" .. srep("\0", (55 - len) % 64) .. "\0\0\0\0"
    .. schar(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255),
             band(rshift(bits, 8), 255), band(bits, 255))
  local H = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = sbyte(msg, chunk + i * 4, chunk + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 63 do
      local v15, v2 = w[i - 15], w[i - 2]
      local s0 = bxor(ror(v15, 7), ror(v15, 18), rshift(v15, 3))
      local s1 = bxor(ror(v2, 17), ror(v2, 19), rshift(v2, 10))
      w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = unpack(H)
    for i = 0, 63 do
      local S1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = tobit(h + S1 + ch + K[i + 1] + w[i])
      local S0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      local t2 = tobit(S0 + maj)
      h = g; g = f; f = e; e = tobit(d + t1); d = c; c = b; b = a; a = tobit(t1 + t2)
    end
    H[1] = tobit(H[1] + a); H[2] = tobit(H[2] + b); H[3] = tobit(H[3] + c)
    H[4] = tobit(H[4] + d); H[5] = tobit(H[5] + e); H[6] = tobit(H[6] + f)
    H[7] = tobit(H[7] + g); H[8] = tobit(H[8] + h)
  end
  local out = {}
  for i = 1, 8 do out[i] = tohex(H[i]) end
  return table.concat(out)
end

local RANK = {read = 1, trade = 2, admin = 3}
local keys, loaded_at = {}, -1000
local digests, digest_count = {}, 0

local function add_key(store, hash, role, key_id)
  if hash and #hash == 64 and RANK[role] then
    store[string.lower(hash)] = {role = role, id = key_id or "unknown"}
  end
end

local function load_keys()
  local now = os.time()
  if now - loaded_at < RELOAD_SECONDS then return end
  loaded_at = now
  local fresh = {}
  local env = ENV_VAR ~= "" and os.getenv(ENV_VAR) or nil
  if env then
    for entry in string.gmatch(env, "[^,%s]+") do
      local hash, role, key_id = string.match(entry, "^(%x+):(%a+):?([%w_-]*)$")
      add_key(fresh, hash, role, key_id)
    end
  end
  local f = KEY_FILE ~= "" and io.open(KEY_FILE, "r") or nil
  if f then
    for line in f:lines() do
      if not sfind(line, "^%s*#") then
        local hash, role, key_id = string.match(line, "^%s*(%x+)%s+(%a+)%s+(%S+)")
        add_key(fresh, hash, role, key_id)
      end
    end
    f:close()
  end
  keys = fresh
end

local function digest(key)
  local d = digests[key]
  if d then return d end
  d = sha256_hex(key)
  if digest_count >= 4096 then digests, digest_count = {}, 0 end
  digests[key] = d
  digest_count = digest_count + 1
  return d
end

-- A JSON error reply. The marker request header keeps Envoy's local-reply mappers (which
-- format Envoy's own errors) from rewriting it.
local function deny(handle, status, grpc_code, code, message, field, extra)
  local body = '{"code":' .. grpc_code .. ',"message":' .. json_str("[" .. code .. "] " .. message)
    .. ',"details":[{"@type":"type.googleapis.com/ktrdr.common.v1.ErrorDetail","code":"'
    .. code .. '","message":"","field":' .. json_str(field)
    .. ',"suggestions":[],"metadata":{}}]}'
  local headers = {[":status"] = tostring(status), ["content-type"] = "application/json"}
  if status == 401 then headers["www-authenticate"] = 'Bearer realm="ktrdr"' end
  for k, v in pairs(extra or {}) do headers[k] = v end
  handle:headers():replace("x-ktrdr-lua-reply", "1")
  handle:respond(headers, body)
end

local function schema_error(handle, message, field)
  deny(handle, 400, 3, "GATEWAY-001", "The request does not match the API schema: " .. message,
    bounded(field, 160))
end

-- Failed authentications (no key, unknown key) per client address: a token bucket per Envoy
-- worker, AUTH_FAIL_PER_MINUTE refilled per minute up to AUTH_FAIL_BURST.
local failures, failure_count = {}, 0

local function allow_failure(handle)
  local address = handle:streamInfo():downstreamRemoteAddress() or "?"
  local ip = string.match(address, "^%[?([^%]]+)%]?:%d+$") or address
  local now = os.time()
  local bucket = failures[ip]
  if not bucket then
    if failure_count >= 10000 then failures, failure_count = {}, 0 end
    bucket = {tokens = AUTH_FAIL_BURST, at = now}
    failures[ip] = bucket
    failure_count = failure_count + 1
  end
  bucket.tokens = math.min(AUTH_FAIL_BURST,
    bucket.tokens + (now - bucket.at) * AUTH_FAIL_PER_MINUTE / 60)
  bucket.at = now
  if bucket.tokens >= 1 then
    bucket.tokens = bucket.tokens - 1
    return true, 0
  end
  return false, math.ceil((1 - bucket.tokens) * 60 / AUTH_FAIL_PER_MINUTE)
end

local function deny_auth(handle, code, message)
  local ok, wait = allow_failure(handle)
  if not ok then
    return deny(handle, 429, 8, "AUTH-005", "Too many requests without a valid API key from "
      .. "this address; retry after " .. wait .. " s.", "x-api-key",
      {["retry-after"] = tostring(wait)})
  end
  deny(handle, 401, 16, code, message, "x-api-key")
end

-- Strict JSON bodies: Envoy's transcoder silently drops unknown fields and keeps the last of
-- two values for one field, so the body is walked here against the request message schema
-- (MSGS, NAMES: generated) and unknown or repeated fields answer 400. Syntax errors are left
-- to the transcoder, which names them.
local function skip_ws(s, i) return sfind(s, "[^ \t\r\n]", i) or (#s + 1) end

local function parse_string(s, i)
  local j = i + 1
  while true do
    local k = sfind(s, '["\\]', j)
    if not k then error("syntax", 0) end
    if sbyte(s, k) == 92 then j = k + 2 else return ssub(s, i + 1, k - 1), k + 1 end
  end
end

local parse_value

local function parse_object(s, i, tname, mapval, depth)
  local fields = tname and MSGS[tname]
  local names = tname and NAMES[tname]
  local seen = {}
  i = skip_ws(s, i + 1)
  if sbyte(s, i) == 125 then return i + 1 end
  while true do
    if sbyte(s, i) ~= 34 then error("syntax", 0) end
    local key
    key, i = parse_string(s, i)
    local sub, canon = mapval, key
    if fields then
      sub = fields[key]
      if sub == nil then error({unknown = key, type = tname}, 0) end
      canon = names[key]
    end
    if seen[canon] then error({twice = canon, first = seen[canon], second = key}, 0) end
    seen[canon] = key
    i = skip_ws(s, i)
    if sbyte(s, i) ~= 58 then error("syntax", 0) end
    i = skip_ws(s, parse_value(s, skip_ws(s, i + 1), sub, depth + 1))
    local c = sbyte(s, i)
    if c == 44 then i = skip_ws(s, i + 1) elseif c == 125 then return i + 1 else error("syntax", 0) end
  end
end

parse_value = function(s, i, spec, depth)
  if depth > 64 then error("syntax", 0) end
  local c = sbyte(s, i)
  if c == 123 then
    if type(spec) == "table" then return parse_object(s, i, nil, spec.map, depth) end
    if type(spec) == "string" then return parse_object(s, i, spec, nil, depth) end
    return parse_object(s, i, nil, nil, depth)
  elseif c == 91 then
    i = skip_ws(s, i + 1)
    if sbyte(s, i) == 93 then return i + 1 end
    while true do
      i = skip_ws(s, parse_value(s, i, spec, depth + 1))
      c = sbyte(s, i)
      if c == 44 then i = skip_ws(s, i + 1) elseif c == 93 then return i + 1 else error("syntax", 0) end
    end
  elseif c == 34 then
    local _, j = parse_string(s, i)
    return j
  end
  local j = sfind(s, "[,}%]%s]", i)
  if j == i or not c then error("syntax", 0) end
  return j or (#s + 1)
end

local function match_rule(rules, method, path)
  for i = 1, #rules do
    local rule = rules[i]
    if rule[1] == method and sfind(path, rule[2]) then return rule end
  end
  return nil
end

local function check_body(handle, rule)
  local body = handle:body()
  if not body or body:length() == 0 then return end
  local ok, err = pcall(parse_value, body:getBytes(0, body:length()), 1, rule[3], 0)
  if ok or type(err) ~= "table" then return end
  if err.unknown then
    return schema_error(handle, "unknown field '" .. bounded(err.unknown, 64) .. "' in "
      .. err.type .. ".", err.unknown)
  end
  local how = err.first == err.second and "twice" or
    ("twice (as '" .. bounded(err.first, 64) .. "' and '" .. bounded(err.second, 64) .. "')")
  schema_error(handle, "field '" .. bounded(err.twice, 64) .. "' is given " .. how
    .. "; give it once.", err.twice)
end

-- The proto field path (dotted) a query parameter names, and whether it is a list.
local function query_field(tname, key)
  local canon, repeated = {}, false
  for part in string.gmatch(key, "[^.]+") do
    local names = tname and NAMES[tname]
    local name = names and names[part]
    if not name then return nil end
    canon[#canon + 1] = name
    repeated = REPEATED[tname] and REPEATED[tname][name] or false
    local spec = MSGS[tname][part]
    tname = type(spec) == "string" and spec or nil
  end
  return table.concat(canon, "."), repeated
end

-- Ambiguous query strings: a parameter given twice (or under both its names), or naming a field
-- already in the path; a JSON body route takes no query parameters.
local function check_query(handle, method, path, query)
  if query == "" then return true end
  if match_rule(BODY_RULES, method, path) then
    schema_error(handle, "this operation takes its fields in the JSON body, not in the query "
      .. "string.", "")
    return false
  end
  local rule = match_rule(QUERY_RULES, method, path)
  if not rule then return true end
  local seen = {}
  for pair in string.gmatch(query, "[^&]+") do
    local key = percent_decode(string.match(pair, "^[^=]*"))
    local canon, repeated = query_field(rule[3], key)
    if canon and rule[4][canon] then
      schema_error(handle, "'" .. canon .. "' is already in the path; do not repeat it as a "
        .. "query parameter.", canon)
      return false
    end
    if canon and seen[canon] and not repeated then
      schema_error(handle, "query parameter '" .. canon .. "' is given twice; give it once.",
        canon)
      return false
    end
    if canon then seen[canon] = true end
  end
  return true
end

local function required_role(method, path)
  local role = GRPC_ROLE[path]
  if role then return role end
  for i = 1, #REST_ROLE do
    local rule = REST_ROLE[i]
    if rule[1] == method and sfind(path, rule[2]) then return rule[3] end
  end
  return "read"
end

-- What the access log shows of a request: the path with query parameter names only (values
-- may hold anything), API keys redacted, at most 256 bytes.
local function log_path(path, query)
  local names = {}
  for pair in string.gmatch(query, "[^&]+") do names[#names + 1] = string.match(pair, "^[^=]*") end
  local shown = #names > 0 and (path .. "?" .. table.concat(names, "&")) or path
  return bounded(redact(shown), 256)
end

math.randomseed(os.time() + math.floor(os.clock() * 1e6))

local function request_id(headers)
  local rid = headers:get("x-request-id")
  if rid and #rid <= 128 and sfind(rid, "^[%w%._:%-]+$") then return end
  local parts = {}
  for i = 1, 4 do parts[i] = string.format("%08x", math.random(0, 0x7fffffff)) end
  headers:replace("x-request-id", table.concat(parts))
end

local function authenticate(handle, headers, method, path)
  local key = headers:get("x-api-key")
  if not key then
    local auth = headers:get("authorization")
    if auth then key = string.match(auth, "^[Bb]earer%s+(%S+)%s*$") end
  end
  headers:remove("x-api-key")
  headers:remove("authorization")
  if not key or key == "" then
    deny_auth(handle, "AUTH-001",
      "An API key is required: send it in the x-api-key header or as Authorization: Bearer.")
    return nil
  end
  load_keys()
  local record = #key <= 128 and keys[digest(key)] or nil
  if not record then
    deny_auth(handle, "AUTH-002", "The API key is not valid (unknown or revoked).")
    return nil
  end
  local needed = required_role(method, path)
  if RANK[record.role] < RANK[needed] then
    deny(handle, 403, 7, "AUTH-003", "This operation needs the '" .. needed
      .. "' role; the API key has the '" .. record.role .. "' role.", "")
    return nil
  end
  return record
end

-- gRPC metadata is stricter than HTTP: drop headers the services could not accept (a key
-- outside [0-9a-z_.-] or a non-printable value would make the upstream call fail with 500).
local function drop_bad_metadata(headers)
  local bad
  for name, value in pairs(headers) do
    if sbyte(name, 1) ~= 58 and (sfind(name, "[^0-9a-z_.%-]")
        or (ssub(name, -4) ~= "-bin" and sfind(value, "[^\032-\126]"))) then
      bad = bad or {}
      bad[#bad + 1] = name
    end
  end
  if bad then for i = 1, #bad do headers:remove(bad[i]) end end
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local full = headers:get(":path") or "/"
  local path, query = string.match(full, "^([^?#]*)%??([^#]*)")
  local method = headers:get(":method") or ""
  headers:replace("x-ktrdr-log-path", log_path(path, query))
  request_id(headers)
  if PUBLIC_PATHS[path] and (method == "GET" or method == "HEAD") then return end
  local record = authenticate(handle, headers, method, path)
  if not record then return end
  drop_bad_metadata(headers)
  headers:replace("x-ktrdr-key-id", record.id)
  headers:replace("x-ktrdr-role", record.role)
  if not check_query(handle, method, path, query) then return end
  if match_rule(STREAM_RULES, method, path) then
    handle:streamInfo():dynamicMetadata():set("ktrdr", "ndjson", true)
  end
  local rule = match_rule(BODY_RULES, method, path)
  if rule and (method == "POST" or method == "PUT" or method == "PATCH") then
    check_body(handle, rule)
  end
end

-- REST streams: the transcoder writes a JSON array ("[" msg "," msg ... "]"); this turns it into
-- newline-delimited JSON, one message per line, and when the stream failed after its first
-- message (ktrdr.error, set by the filter after the transcoder) ends it with {"error": status}.
local function to_ndjson(st, s)
  local out, n, i, ended = {}, #s, 1, false
  local from = st.depth > 0 and 1 or nil
  if st.skip then i, st.skip = 2, false end
  while i <= n do
    if st.depth == 0 then
      local j = sfind(s, "[^%s,%[%]]", i)
      if sfind(ssub(s, i, (j or n + 1) - 1), "]", 1, true) then ended = true end
      if not j then break end
      st.depth, from, i = 1, j, j + 1
    elseif st.in_str then
      local j = sfind(s, '["\\]', i)
      if not j then break end
      if sbyte(s, j) == 92 then
        st.skip = j == n
        i = j + 2
      else
        st.in_str, i = false, j + 1
      end
    else
      local j = sfind(s, '[{}"]', i)
      if not j then break end
      local c = sbyte(s, j)
      if c == 34 then
        st.in_str = true
      elseif c == 123 then
        st.depth = st.depth + 1
      else
        st.depth = st.depth - 1
        if st.depth == 0 then out[#out + 1], from = ssub(s, from, j) .. "\n", nil end
      end
      i = j + 1
    end
  end
  if st.depth > 0 and from then out[#out + 1] = ssub(s, from) end
  return table.concat(out), ended
end

function envoy_on_response(handle)
  local headers = handle:headers()
  local status = headers:get(":status")
  -- 429 is the rate limit only (which sends retry-after): a service's RESOURCE_EXHAUSTED is 503.
  if status == "429" and not headers:get("retry-after") then
    headers:replace(":status", "503")
    return
  end
  local meta = handle:streamInfo():dynamicMetadata():get("ktrdr")
  if status ~= "200" or not (meta and meta.ndjson) then return end
  local state = {depth = 0, in_str = false, skip = false}
  local framed = 0
  for chunk in handle:bodyChunks() do
    local n = chunk:length()
    if n > 0 then
      local s = chunk:getBytes(0, n)
      -- (wrappers do not survive the yields between chunks: ask for the metadata again)
      local now = handle:streamInfo():dynamicMetadata():get("ktrdr") or {}
      local out, ended
      if (now.messages or 0) - framed == 1 and state.depth == 0 then
        -- One whole message (the transcoder writes whole messages): "[" or "," and the object.
        out, ended = ssub(s, (sfind(s, "{", 1, true))) .. "\n", false
      else
        out, ended = to_ndjson(state, s)
      end
      framed = now.messages or framed
      if ended and now.error then out = out .. '{"error":' .. now.error .. '}\n' end
      chunk:setBytes(out)
    end
  end
end
