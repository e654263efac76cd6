/**
 * The circuit state machine of `@apikit/circuit-breaker`'s memory store
 * (`internal/memory.ts`), as one Lua script: each operation reads the
 * circuit's JSON, moves it, writes it back with a TTL and answers in JSON,
 * atomically per key. The shared contract suite runs both stores through the
 * same cases, so the two cannot drift apart unnoticed.
 *
 * KEYS[1] the circuit; ARGV: op, now, idle TTL (ms), then per op:
 * acquire: config JSON, config signature, lease ms;
 * record: config JSON, permit JSON, outcome tag, duration ms, open ms.
 * Trip details come back as data ({i, run} or {i, bad, calls}); the caller words them.
 */
export const lua = `
local op = ARGV[1]
local now = tonumber(ARGV[2])
local idle = tonumber(ARGV[3])
local raw = redis.call("GET", KEYS[1])
local c = nil
if raw then c = cjson.decode(raw) end

local function newTracker(p)
  if p._tag == "Consecutive" then return { run = 0 } end
  if p.window._tag == "Count" then
    local ring = {}
    for i = 1, p.window.size do ring[i] = 0 end
    return { ring = ring, nxt = 1, calls = 0, bad = 0 }
  end
  local idx, cs, bs = {}, {}, {}
  for i = 1, 10 do idx[i] = -1; cs[i] = 0; bs[i] = 0 end
  return { idx = idx, c = cs, b = bs }
end

local function trackers(trip)
  local t = {}
  for i, p in ipairs(trip) do t[i] = newTracker(p) end
  return t
end

local function widthOf(p) return math.max(1, math.ceil(p.window.millis / 10)) end

local function add(p, tr, outcome, dur)
  if p._tag == "Consecutive" then
    if outcome == "Failure" then tr.run = tr.run + 1 else tr.run = 0 end
    return
  end
  local v = 0
  if p._tag == "SlowCallRate" then
    if dur > p.slowerThanMillis then v = 1 end
  elseif outcome == "Failure" then
    v = 1
  end
  if p.window._tag == "Count" then
    if tr.calls == p.window.size then tr.bad = tr.bad - tr.ring[tr.nxt] else tr.calls = tr.calls + 1 end
    tr.ring[tr.nxt] = v
    tr.bad = tr.bad + v
    tr.nxt = (tr.nxt % p.window.size) + 1
  else
    local i = math.floor(now / widthOf(p))
    local slot = (i % 10) + 1
    if tr.idx[slot] ~= i then tr.idx[slot] = i; tr.c[slot] = 0; tr.b[slot] = 0 end
    tr.c[slot] = tr.c[slot] + 1
    tr.b[slot] = tr.b[slot] + v
  end
end

local function check(p, tr)
  if p._tag == "Consecutive" then
    if tr.run >= p.failures then return { run = tr.run } end
    return nil
  end
  local calls, bad = 0, 0
  if p.window._tag == "Count" then
    calls = tr.calls; bad = tr.bad
  else
    local oldest = math.floor(now / widthOf(p)) - 9
    for s = 1, 10 do
      if tr.idx[s] >= oldest then calls = calls + tr.c[s]; bad = bad + tr.b[s] end
    end
  end
  if calls == 0 or calls < p.minimumCalls or bad / calls < p.threshold then return nil end
  return { bad = bad, calls = calls }
end

local function fresh(trip, sig)
  return { s = "Closed", g = 0, o = 0, u = 0, ok = 0, l = {}, n = 0, sig = sig, trip = trip, t = trackers(trip) }
end

local function move(to, reason, openMillis, detail)
  local from = c.s
  c.s = to; c.g = c.g + 1; c.ok = 0; c.l = {}
  if to == "Closed" then c.o = 0; c.t = trackers(c.trip) end
  return { from = from, to = to, reason = reason, at = now, openMillis = openMillis, detail = detail }
end

local function open(reason, openMillis, detail)
  c.o = c.o + 1
  c.u = now + openMillis
  return move("Open", reason, openMillis, detail)
end

local function save()
  local ttl = idle
  if c.s == "Open" and c.u > now then ttl = ttl + (c.u - now) end
  redis.call("SET", KEYS[1], cjson.encode(c), "PX", math.ceil(ttl))
end

if op == "snapshot" then
  if not c then return cjson.encode({ state = "Closed", opened = 0 }) end
  local retry = nil
  if c.s == "Open" then retry = math.max(0, c.u - now) elseif c.s == "Isolated" then retry = -1 end
  return cjson.encode({ state = c.s, opened = c.o, retryAfterMillis = retry })
end

local result = {}

if op == "acquire" then
  local cfg = cjson.decode(ARGV[4])
  local sig = ARGV[5]
  local leaseMillis = tonumber(ARGV[6])
  local changed = true
  if not c then
    c = fresh(cfg.trip, sig)
  elseif c.sig ~= sig then
    c.sig = sig; c.trip = cfg.trip; c.t = trackers(cfg.trip)
  else
    changed = false
  end
  if c.s == "Closed" then
    -- The hot path: nothing to write but the idle TTL.
    if not changed then
      redis.call("PEXPIRE", KEYS[1], math.ceil(idle))
      return cjson.encode({ permit = { _tag = "Call", generation = c.g, opened = 0 } })
    end
    result.permit = { _tag = "Call", generation = c.g, opened = 0 }
  elseif c.s == "Isolated" then
    result.permit = { _tag = "Rejected", state = "Isolated", retryAfterMillis = -1 }
  elseif c.s == "Open" and now < c.u then
    result.permit = { _tag = "Rejected", state = "Open", retryAfterMillis = c.u - now }
  else
    if c.s == "Open" then result.transition = move("HalfOpen", "OpenElapsed") end
    local earliest = nil
    local held = 0
    for id, expires in pairs(c.l) do
      if expires <= now then
        c.l[id] = nil
      else
        held = held + 1
        if earliest == nil or expires < earliest then earliest = expires end
      end
    end
    if held + c.ok < cfg.probes then
      c.n = c.n + 1
      c.l[tostring(c.n)] = now + leaseMillis
      result.permit = { _tag = "Probe", generation = c.g, opened = c.o, lease = c.n }
    else
      local retry = 0
      if earliest then retry = earliest - now end
      result.permit = { _tag = "Rejected", state = "HalfOpen", retryAfterMillis = retry }
    end
  end
elseif op == "record" then
  local cfg = cjson.decode(ARGV[4])
  local permit = cjson.decode(ARGV[5])
  local outcome = ARGV[6]
  local dur = tonumber(ARGV[7])
  local openMillis = tonumber(ARGV[8])
  -- An outcome from an older state (a call admitted before the circuit opened) says nothing about this one.
  if not c or c.g ~= permit.generation then return "{}" end
  if c.s == "Closed" then
    if outcome == "Ignored" then return "{}" end
    local trip = nil
    for i, p in ipairs(c.trip) do
      add(p, c.t[i], outcome, dur)
      if not trip then
        trip = check(p, c.t[i])
        if trip then trip.i = i - 1 end
      end
    end
    if trip then result.transition = open("Tripped", openMillis, trip) end
  else
    local lease = tostring(permit.lease)
    if c.s ~= "HalfOpen" or permit._tag ~= "Probe" or not c.l[lease] then return "{}" end
    c.l[lease] = nil
    if outcome ~= "Ignored" then
      local slow = false
      for _, p in ipairs(cfg.trip) do
        if p._tag == "SlowCallRate" and dur > p.slowerThanMillis then slow = true end
      end
      if outcome == "Failure" then
        result.transition = open("ProbeFailed", openMillis, "a probe failed")
      elseif slow then
        result.transition = open("ProbeFailed", openMillis, "a probe took " .. ARGV[7] .. " ms")
      else
        c.ok = c.ok + 1
        if c.ok >= cfg.probes then
          result.transition = move("Closed", "ProbesSucceeded", nil, c.ok .. " probe(s) succeeded")
        end
      end
    end
  end
elseif op == "isolate" then
  if not c then c = fresh({}, "") end
  if c.s ~= "Isolated" then result.transition = move("Isolated", "Isolated") end
elseif op == "reset" then
  if not c then c = fresh({}, "") end
  if c.s == "Closed" then c.t = trackers(c.trip) else result.transition = move("Closed", "Reset") end
end

save()
return cjson.encode(result)
`
