-- wrk script: GET a path template at random centres where people live.
-- Usage: wrk -s bench/wrk-query.lua ... -- CENTRES_FILE 'PATH_WITH_{lat}_AND_{lon}'
local centres = {}
local template

function init(args)
  for line in io.lines(args[1]) do
    local lat, lon = line:match("^([-%d.]+),([-%d.]+)$")
    if lat then centres[#centres + 1] = { lat, lon } end
  end
  template = args[2]
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local c = centres[math.random(#centres)]
  local path = template:gsub("{lat}", c[1]):gsub("{lon}", c[2])
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
