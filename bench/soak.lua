-- wrk script of bench/soak.sh: mixed traffic against one instance. Each request is, at
-- random, a public read (over every public read endpoint, with realistic parameters) or,
-- WRITE_PCT% of the time, an admin write (a JSON merge patch or a verify, with If-Match)
-- to one of this process's own assets: the two wrk processes (one per instance) write
-- disjoint sets, and a thread never has two writes to one asset in flight, so a 412 can
-- only mean a lost update and counts as an error.
--
-- Usage: wrk -tT -s bench/soak.lua URL -- FIXTURE_DIR PART TOKEN WRITE_PCT RATE T
--   FIXTURE_DIR  centres.txt, ids.txt, lsoa.txt, la.txt, words.txt, writes-PART.txt
--   PART         a or b: which write set, and the tag in X-Request-Id
--   TOKEN        bearer token of an editor or admin
--   WRITE_PCT    percentage of writes (default 5)
--   RATE         requests a second per connection, 0 = as fast as it answers (default 0)
--   T            wrk's thread count (-t), so that threads split the write set (default 1)
--   cycle        (optional) every kind of read in turn, then again: a preflight
-- done() prints one line `SOAK {json}`: totals, statuses by request kind, latency.

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local function lines(path, pattern)
  local out = {}
  for line in io.lines(path) do
    if line:match(pattern) then out[#out + 1] = line end
  end
  return out
end

local centres, ids, lsoas, las, words = {}, {}, {}, {}, {}
local slots = {}      -- this thread's write set: {id=, version=, busy=}
local token, part, write_pct, conn_delay_ms
local seq = 0
local cycle = false
-- Per kind of request: sent, and statuses seen ("kind status" keys: wrk's thread:get
-- copies flat tables only; nested ones crash it). Read back by done() through thread:get.
sent = {}
statuses = {}
write_conflicts = 0

function init(args)
  local dir = args[1]
  part = args[2] or "a"
  token = args[3]
  write_pct = tonumber(args[4] or "5")
  local rate = tonumber(args[5] or "0")
  conn_delay_ms = rate > 0 and 1000 / rate or 0
  for _, l in ipairs(lines(dir .. "/centres.txt", "^[-%d.]+,[-%d.]+$")) do
    local lat, lon = l:match("^([-%d.]+),([-%d.]+)$")
    centres[#centres + 1] = { lat = tonumber(lat), lon = tonumber(lon) }
  end
  ids = lines(dir .. "/ids.txt", "%x")
  lsoas = lines(dir .. "/lsoa.txt", "%w")
  las = lines(dir .. "/la.txt", "%w")
  words = lines(dir .. "/words.txt", "%w")
  -- Threads of this process split its write set.
  cycle = args[7] == "cycle"
  local nthreads = tonumber(args[6] or "1")
  for i, l in ipairs(lines(dir .. "/writes-" .. part .. ".txt", "%x")) do
    local id, version = l:match("^(%S+)%s+(%d+)$")
    if (i - 1) % nthreads == (tid or 0) % nthreads then
      slots[#slots + 1] = { id = id, version = tonumber(version), busy = false }
    end
  end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + (part == "b" and 104729 or 0))
end

local function pick(t) return t[math.random(#t)] end

local function centre()
  local c = pick(centres)
  return string.format("%.4f,%.4f", c.lat, c.lon), c
end

local function bbox()
  local c = pick(centres)
  local dx, dy = 0.05 + math.random() * 0.15, 0.03 + math.random() * 0.1
  return string.format("%.4f,%.4f,%.4f,%.4f", c.lon - dx, c.lat - dy, c.lon + dx, c.lat + dy)
end

-- Public reads: kind, weight, request builder (returns method, path, body or nil).
local reads = {
  { "near", 20, function()
      return "GET", "/v1/assets?near=" .. centre() .. "&radius_m=" .. pick({ 1000, 2000, 5000 }) .. "&limit=50"
    end },
  { "near_filters", 6, function()
      return "GET", "/v1/assets?near=" .. centre() .. "&radius_m=10000&category=library"
        .. pick({ "&open_now=true", "&wheelchair=limited", "&cost=free", "&open_now=true&wheelchair=yes" })
    end },
  { "near_geojson", 3, function()
      return "GET", "/v1/assets?near=" .. centre() .. "&radius_m=5000&format=geojson"
    end },
  { "near_csv", 2, function()
      return "GET", "/v1/assets?near=" .. centre() .. "&radius_m=5000&format=csv"
    end },
  { "bbox", 5, function()
      return "GET", "/v1/assets?bbox=" .. bbox() .. "&sort=" .. pick({ "name", "updated" }) .. "&limit=50"
    end },
  { "words", 3, function()
      return "GET", "/v1/assets?q=" .. pick(words) .. "&limit=20"
    end },
  { "nearest", 10, function()
      local _, c = centre()
      return "GET", string.format("/v1/assets/nearest?lat=%.4f&lon=%.4f&k=%d%s", c.lat, c.lon,
        pick({ 1, 5, 10 }), pick({ "", "&category=library" }))
    end },
  { "asset", 15, function() return "GET", "/v1/assets/" .. pick(ids) end },
  { "categories", 3, function() return "GET", "/v1/categories" end },
  { "areas", 4, function()
      return "GET", "/v1/areas?la=" .. pick(las) .. pick({ "", "&decile=1,2", "&format=csv", "&format=geojson" })
    end },
  { "area", 6, function()
      return "GET", "/v1/areas/" .. pick(lsoas) .. pick({ "", "?threshold_m=2000", "?category=library" })
    end },
  { "gaps", 4, function()
      return "GET", "/v1/reports/access-gaps?category=library&threshold_m=" .. pick({ 2000, 5000 })
        .. pick({ "&limit=100", "&la=" .. pick(las), "&la=" .. pick(las) .. "&format=csv",
                  "&max_decile=1&format=geojson&limit=200", "&sort=population&limit=50" })
    end },
  { "by_decile", 2, function()
      return "GET", "/v1/reports/access-by-decile?category=library" .. pick({ "", "&threshold_m=5000", "&la=" .. pick(las), "&format=csv" })
    end },
  { "local_authorities", 2, function()
      return "GET", "/v1/reports/local-authorities?category=library" .. pick({ "", "&format=csv", "&threshold_m=5000" })
    end },
  { "svg", 2, function()
      return "GET", pick({ "/v1/reports/access-by-decile.svg?category=library",
                           "/v1/reports/access-gaps.svg?category=library&la=" .. pick(las) })
    end },
  { "what_if", 1, function()
      local _, c = centre()
      local cands = {}
      for i = 1, 5 do
        cands[i] = string.format('{"lat":%.4f,"lon":%.4f}', c.lat + (math.random() - 0.5) * 0.2,
          c.lon + (math.random() - 0.5) * 0.3)
      end
      return "POST", "/v1/reports/what-if",
        '{"category":"library","threshold_m":2000,"max_decile":2,"pick":2,"candidates":[' .. table.concat(cands, ",") .. ']}'
    end },
  { "health", 2, function() return "GET", pick({ "/health/live", "/health/ready" }) end },
  { "openapi", 1, function() return "GET", "/openapi.json" end },
}
local total_weight = 0
for _, r in ipairs(reads) do total_weight = total_weight + r[2] end

local function count(t, k) t[k] = (t[k] or 0) + 1 end

local function read_request()
  local x = math.random(total_weight)
  for i, r in ipairs(reads) do
    x = x - r[2]
    if cycle then x = (i == seq % #reads + 1) and 0 or 1 end
    if x <= 0 then
      local method, path, body = r[3]()
      seq = seq + 1
      count(sent, r[1])
      local headers = { ["X-Request-Id"] = "soak-" .. r[1] .. "-" .. part .. seq }
      if body then headers["Content-Type"] = "application/json" end
      return wrk.format(method, path, headers, body)
    end
  end
end

local function write_request()
  -- A free slot, from a random start: never two writes to one asset in flight.
  local n = #slots
  if n == 0 then return nil end
  local start = math.random(n)
  for i = 0, n - 1 do
    local s = (start + i - 1) % n + 1
    local slot = slots[s]
    if not slot.busy then
      slot.busy = true
      seq = seq + 1
      local headers = {
        ["Authorization"] = "Bearer " .. token,
        ["If-Match"] = '"' .. slot.version .. '"',
      }
      if math.random(5) == 1 then
        count(sent, "w_verify")
        headers["X-Request-Id"] = "soakw-w_verify-" .. s .. "-" .. part .. seq
        return wrk.format("POST", "/v1/admin/assets/" .. slot.id .. "/verify", headers)
      end
      count(sent, "w_patch")
      headers["X-Request-Id"] = "soakw-w_patch-" .. s .. "-" .. part .. seq
      headers["Content-Type"] = "application/merge-patch+json"
      local body = string.format('{"description":"Soak %s%d: checked on %d."}', part, seq, os.time())
      return wrk.format("PATCH", "/v1/admin/assets/" .. slot.id, headers, body)
    end
  end
  return nil
end

function request()
  if math.random(100) <= write_pct then
    local r = write_request()
    if r then return r end
  end
  return read_request()
end

-- wrk calls delay() before every request on a connection.
function delay()
  if conn_delay_ms > 0 then
    -- Exponential gaps (Poisson arrivals) with the asked mean.
    return -math.log(1 - math.random()) * conn_delay_ms
  end
  return 0
end

function response(status, headers, body)
  local rid = headers["x-request-id"] or headers["X-Request-Id"] or ""
  local kind = rid:match("^soakw?%-([%w_]+)%-") or "unknown"
  count(statuses, kind .. " " .. status)
  if rid:sub(1, 6) == "soakw-" then
    local s = tonumber(rid:match("^soakw%-[%w_]+%-(%d+)%-"))
    local slot = s and slots[s]
    if slot then
      local etag = headers["etag"] or headers["ETag"] or ""
      local v = tonumber(etag:match("(%d+)"))
      if status == 200 and v then
        slot.version = v
      elseif status == 412 then
        write_conflicts = write_conflicts + 1
        -- Someone else wrote this asset: a bug in the set-up or a lost update. Take the
        -- version from the problem's detail if present so the soak can go on.
        local cur = tonumber((body or ""):match("version (%d+)"))
        if cur then slot.version = cur end
      end
      slot.busy = false
    end
  end
end

local function json_escape(s) return (tostring(s):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end)) end

local function to_json(v)
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = '"' .. json_escape(k) .. '":' .. to_json(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(v) == "number" then
    return string.format("%.17g", v)
  end
  return '"' .. json_escape(v) .. '"'
end

function done(summary, latency, requests)
  local agg_sent, agg_status, conflicts = {}, {}, 0
  for _, t in ipairs(threads) do
    for k, n in pairs(t:get("sent") or {}) do agg_sent[k] = (agg_sent[k] or 0) + n end
    for key, n in pairs(t:get("statuses") or {}) do
      local kind, st = key:match("^(%S+) (%d+)$")
      agg_status[kind] = agg_status[kind] or {}
      agg_status[kind][st] = (agg_status[kind][st] or 0) + n
    end
    conflicts = conflicts + (t:get("write_conflicts") or 0)
  end
  local e = summary.errors
  io.write("SOAK " .. to_json({
    requests = summary.requests,
    duration_s = summary.duration / 1e6,
    bytes = summary.bytes,
    socket_errors = { connect = e.connect, read = e.read, write = e.write, timeout = e.timeout },
    non_2xx_3xx = e.status,
    latency_ms = {
      p50 = latency:percentile(50) / 1000, p90 = latency:percentile(90) / 1000,
      p99 = latency:percentile(99) / 1000, p999 = latency:percentile(99.9) / 1000,
      max = latency.max / 1000, mean = latency.mean / 1000,
    },
    sent = agg_sent,
    statuses = agg_status,
    write_conflicts = conflicts,
  }) .. "\n")
end
