-- Helpers shared by the edge's two Lua filters (prepended to each script).

local sbyte, sfind, ssub, sgsub = string.byte, string.find, string.sub, string.gsub

local function json_str(s)
  return '"' .. sgsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", sbyte(c))
  end) .. '"'
end

local function percent_decode(s)
  return (sgsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- API keys (ktrdr_<8 hex id>_<secret>) never reach a log: keep the id, drop the secret.
local function redact(s)
  return (sgsub(s, "(ktrdr_%x%x%x%x%x%x%x%x_)[%w_%-]+", "%1[REDACTED]"))
end

local function bounded(s, limit)
  if #s <= limit then return s end
  return ssub(s, 1, limit - 24) .. "...[" .. #s .. " bytes]"
end
