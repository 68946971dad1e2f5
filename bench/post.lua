-- wrk script: POST /v1/videos with a JSON body (the key comes from the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.body = '{"model": "viduq2-turbo", "prompt": "A cat chasing butterflies on the grass", "duration": 5}'
