-- wrk script of scripts/bench: each request asks for a path drawn at random from the file
-- named by BENCH_PATHS (one path a line), e.g. the public check of 10 000 certificates.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  paths[#paths + 1] = line
end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
