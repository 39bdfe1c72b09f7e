-- KTRDR edge, second Lua filter: between the gRPC-JSON transcoder and the router.
-- Request: the transcoder marks a request it rewrote from REST with x-envoy-original-path (the
-- whole original path, however long); that header is replaced by the marker x-ktrdr-rest, and
-- x-ktrdr-rpc names the gRPC method for the access log.
-- Response of a REST stream (flagged by the auth filter in the dynamic metadata ktrdr.ndjson):
-- the messages that passed are counted in ktrdr.messages, and a non-OK gRPC status in the
-- trailers is stored as JSON in ktrdr.error, so the auth filter can append it as the stream's
-- last NDJSON line once the transcoder closes the array.

function envoy_on_request(handle)
  local headers = handle:headers()
  if headers:get("x-envoy-original-path") then
    headers:remove("x-envoy-original-path")
    headers:replace("x-ktrdr-rest", "1")
  end
  local path = string.match(headers:get(":path") or "", "^[^?]*")
  headers:replace("x-ktrdr-rpc", bounded(redact(path), 200))
end

local function status_json(trailers, status)
  local given = trailers:get("x-ktrdr-error-json")
  if given then return given end
  -- Not from a KTRDR service (no JSON trailer): build the same shape from grpc-message.
  local message = percent_decode(trailers:get("grpc-message") or "")
  local code = string.match(message, "^%[([A-Z][A-Z_]*%-%d%d%d)%] ")
  if not code then
    code = "GATEWAY-007"
    message = "[GATEWAY-007] The stream failed: " .. (message ~= "" and message or "no reason given")
  end
  return '{"code":' .. tonumber(status) .. ',"message":' .. json_str(message)
    .. ',"details":[{"@type":"type.googleapis.com/ktrdr.common.v1.ErrorDetail","code":"'
    .. code .. '","message":"","field":"","suggestions":[],"metadata":{}}]}'
end

-- Counts the gRPC messages of the stream as they pass (5-byte header: flag, 4-byte length), so
-- the auth filter knows how many JSON messages each transcoded chunk holds (ktrdr.messages).
local function count_messages(handle)
  local count, need, header = 0, 0, ""
  for chunk in handle:bodyChunks() do
    local n, pos = chunk:length(), 0
    while pos < n do
      if need > 0 then
        local take = math.min(need, n - pos)
        need, pos = need - take, pos + take
        if need == 0 then count = count + 1 end
      else
        local got = chunk:getBytes(pos, math.min(5 - #header, n - pos))
        header, pos = header .. got, pos + #got
        if #header == 5 then
          local b1, b2, b3, b4 = sbyte(header, 2, 5)
          need, header = ((b1 * 256 + b2) * 256 + b3) * 256 + b4, ""
          if need == 0 then count = count + 1 end
        end
      end
    end
    handle:streamInfo():dynamicMetadata():set("ktrdr", "messages", count)
  end
end

function envoy_on_response(handle)
  local meta = handle:streamInfo():dynamicMetadata():get("ktrdr")
  if not (meta and meta.ndjson) then return end
  count_messages(handle)
  local trailers = handle:trailers()
  if not trailers then return end
  local status = trailers:get("grpc-status")
  if status and status ~= "0" and tonumber(status) then
    handle:streamInfo():dynamicMetadata():set("ktrdr", "error", status_json(trailers, status))
  end
  trailers:remove("x-ktrdr-error-json")
end
