"""The Lua scripts RedisStore runs: hash operations in bulk, and reading through a reference; each one round trip."""

# Many hash writes as one script call: one round trip, and each call applies all or nothing.
# Like the keys of HSETNX below, the writes travel as one NUL-separated argument:
# key, number of fields, then field and amount for each.
HINCR = """
local blob = ARGV[1]
local pos, last, keys = 1, #blob, 0
local function token()
  local stop = string.find(blob, '\\0', pos, true) or (last + 1)
  local text = string.sub(blob, pos, stop - 1)
  pos = stop + 1
  return text
end
while pos <= last do
  local key = token()
  for _ = 1, tonumber(token()) do
    local field = token()
    redis.call('HINCRBY', key, field, token())
  end
  keys = keys + 1
end
return keys
"""
# Replies are packed into one string each: every element of a reply becomes a Python object,
# and 20,000 integers or 1,500 hash fields cost milliseconds that one string does not. Keys and
# fields travel NUL-separated in two arguments rather than as declared KEYS: 20,000 arguments
# cost more to pack than Redis takes for the writes. (A script touching undeclared keys is fine
# on one Redis server; this store is not meant for Redis Cluster.)
HSETNX = """
local keys, fields = ARGV[1], ARGV[2]
local created, n, k, f = {}, 0, 1, 1
while k <= #keys do
  local k_end = string.find(keys, '\\0', k, true) or (#keys + 1)
  local f_end = string.find(fields, '\\0', f, true) or (#fields + 1)
  n = n + 1
  created[n] = redis.call('HSETNX', string.sub(keys, k, k_end - 1), string.sub(fields, f, f_end - 1), '1')
  k, f = k_end + 1, f_end + 1
end
return table.concat(created)
"""
HGETALL = """
local packed = {}
for k = 1, #KEYS do
  packed[k] = table.concat(redis.call('HGETALL', KEYS[k]), '\\0')
end
return packed
"""
# Summed in Redis: a month-by-month aggregate is a dozen hashes of seventy counters, and adding
# them up here would cost the quote path far more than the round trip. ARGV: each group's size.
HSUM = """
local packed = {}
local k = 1
for g = 1, #ARGV do
  local sums, order = {}, {}
  for _ = 1, tonumber(ARGV[g]) do
    local flat = redis.call('HGETALL', KEYS[k])
    k = k + 1
    for f = 1, #flat, 2 do
      local name = flat[f]
      if sums[name] == nil then
        order[#order + 1] = name
        sums[name] = 0
      end
      sums[name] = sums[name] + tonumber(flat[f + 1])
    end
  end
  local parts = {}
  for _, name in ipairs(order) do
    parts[#parts + 1] = name
    parts[#parts + 1] = string.format('%d', sums[name])
  end
  packed[g] = table.concat(parts, '\\0')
end
return packed
"""
# Arguments per script call: large enough to amortise the round trip, small enough that one
# call never blocks Redis for more than a few milliseconds.
SCRIPT_CHUNK = 20_000

# A quote's cache entry holds the quote's id; reading both in one round trip halves what a cache
# hit waits on Redis. ARGV[1]: the prefix the referenced key is under (the store's own included).
GET_REFERENCED = """
local ref = redis.call('GET', KEYS[1])
if not ref then return false end
return redis.call('GET', ARGV[1] .. ref)
"""
