#!/usr/bin/env bats
# opt-forecast: one window through the C Chronos, printed as JSON.

load test_helper

setup() {
	M="$CHRONOPT_ROOT/testdata/chronos/relu-tied"
}

@test "--help prints the usage to stdout and exits 0" {
	run --separate-stderr opt-forecast --help
	assert_success
	assert_output --partial "usage: opt-forecast --model DIR"
	[ -z "$stderr" ]
}

@test "misuse is reported on stderr with exit 2" {
	run --separate-stderr opt-forecast --values 1,2,3
	assert_failure 2
	[[ "$stderr" == "opt-forecast: --model or --config is required"* ]]
	run --separate-stderr opt-forecast --model "$M" --values 1,x,3
	assert_failure 2
	[[ "$stderr" == "opt-forecast: --values '1,x,3' is not a comma-separated list of numbers"* ]]
	run --separate-stderr opt-forecast --model "$M" --values 1,2 --top-p 1.5
	assert_failure 2
	run --separate-stderr opt-forecast --model "$M" --values 1,2 --series x.csv
	assert_failure 2
}

@test "a forecast has the documented shape and is reproducible" {
	run --separate-stderr opt-forecast --model "$M" --values 5,6,7,8,9,8,7,6 --steps 12 --num-samples 5 --seed 3 --tokens
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/a.json"
	jq -e '.format == "chronopt-forecast-1" and .threads == 1 and .stream == 8 and .steps == 12' "$BATS_TEST_TMPDIR/a.json"
	jq -e '(.samples | length) == 5 and all(.samples[]; length == 12)' "$BATS_TEST_TMPDIR/a.json"
	jq -e '(.quantiles | keys) == ["0.025","0.1","0.5","0.9","0.975"] and .median == .quantiles["0.5"]' "$BATS_TEST_TMPDIR/a.json"
	jq -e '(.input_token_ids | length) == 9 and .input_token_ids[8] == 1' "$BATS_TEST_TMPDIR/a.json"
	jq -e 'all(.sample_token_ids[][]; . != 1)' "$BATS_TEST_TMPDIR/a.json"
	run --separate-stderr opt-forecast --model "$M" --values 5,6,7,8,9,8,7,6 --steps 12 --num-samples 5 --seed 3 --tokens
	assert_output "$(cat "$BATS_TEST_TMPDIR/a.json")"
	run --separate-stderr opt-forecast --model "$M" --values 5,6,7,8,9,8,7,6 --steps 12 --num-samples 5 --seed 4 --tokens
	refute_output "$(cat "$BATS_TEST_TMPDIR/a.json")"
}

@test "the first paths of a larger run are the same up to prediction_length" {
	a=$(opt-forecast --model "$M" --values 1,3,2,4,3,5 --steps 8 --num-samples 2 | jq -c '.samples')
	b=$(opt-forecast --model "$M" --values 1,3,2,4,3,5 --steps 8 --num-samples 7 | jq -c '.samples[0:2]')
	[ "$a" = "$b" ]
}

@test "a series file is cut at --end and --origin" {
	csv="$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	run --separate-stderr opt-forecast --model "$M" --series "$csv" --end 2003-01-10 --steps 2 --num-samples 2
	assert_success
	n=$(awk -F, '$2 <= "2003-01-10"' "$csv" | grep -c USDCLP)
	[ "$(echo "$output" | jq .stream)" -eq "$n" ]
	run --separate-stderr opt-forecast --model "$M" --series "$csv" --origin 100 --steps 2 --num-samples 2
	assert_success
	[ "$(echo "$output" | jq .context_used)" -eq 64 ]
	run --separate-stderr opt-forecast --model "$M" --series "$csv" --end 1999-01-01
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $csv: no observation on or before '1999-01-01'" ]]
}

@test "a corrupt checkpoint exits 3 with the file in the message; a missing one exits 4" {
	d="$BATS_TEST_TMPDIR/m"
	mkdir "$d"
	cp "$M/config.json" "$d/"
	head -c 5000 "$M/model.safetensors" >"$d/model.safetensors"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/model.safetensors: "* ]]
	run --separate-stderr opt-forecast --model "$BATS_TEST_TMPDIR/none" --values 1,2,3
	assert_failure 4
	[[ "$stderr" == "opt-forecast: cannot open '$BATS_TEST_TMPDIR/none/config.json': "* ]]
}

@test "the man page's test-model example runs" {
	cd "$CHRONOPT_ROOT"
	run --separate-stderr opt-forecast --model testdata/chronos/relu-tied --values 1,2,3,4,5 --steps 4 --num-samples 3 --tokens
	assert_success
	echo "$output" | jq -e '.steps == 4'
}

@test "a full stdout is exit 4 with exactly one message" {
	run --separate-stderr bash -c "opt-forecast --model '$M' --values 5,6,7,8,9,8,7,6 --steps 12 --num-samples 5 >/dev/full"
	assert_failure 4
	assert_equal "$stderr" "opt-forecast: error writing standard output: No space left on device"
}

@test "the bundled demo model starts its forecast at the last observed value" {
	# Greedy first token against the last context token, on windows whose last
	# value is far from the context mean (2008 and 2022 extremes).  The first
	# demo model put it near the context's typical level: 6 to 59 bins off here.
	D="$CHRONOPT_ROOT/models/chronos-demo"
	for end in 2008-03-19 2020-03-19 2022-07-15 2026-09-23; do
		run --separate-stderr opt-forecast --model "$D" --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" \
			--end "$end" --steps 1 --num-samples 1 --top-k 1 --tokens
		assert_success
		echo "$end: $(jq -c '[.input_token_ids[-2], .sample_token_ids[0][0]]' <<<"$output")"
		jq -e '(.input_token_ids[-2] - .sample_token_ids[0][0]) | fabs <= 1' <<<"$output"
	done
}

@test "an --origin past the end names the real number of observations" {
	csv="$CHRONOPT_ROOT/testdata/usdclp_daily.csv"
	n=$(grep -c USDCLP "$csv")
	run --separate-stderr opt-forecast --model "$M" --series "$csv" --origin 99999 --steps 2 --num-samples 2
	assert_failure 3
	[ -z "$output" ]
	assert_equal "$stderr" "opt-forecast: $csv: --origin 99999 is past the $n observations"
}

@test "the seed is an integer of at most 15 digits and is printed exactly" {
	run --separate-stderr opt-forecast --model "$M" --values 1,2,3 --steps 2 --num-samples 2 --seed 999999999999999
	assert_success
	[[ "$output" == *'"seed":'?'999999999999999,'* ]]
	run --separate-stderr opt-forecast --model "$M" --values 1,2,3 --steps 2 --num-samples 2 --seed 1000000000000000
	assert_failure 2
	[[ "$stderr" == "opt-forecast: --seed '1000000000000000' is not an integer in 0..999999999999999"* ]]
}

@test "out of memory is one line and exit 4, with nothing on stdout" {
	[[ "$CHRONOPT_BIN" != */san/* ]] || skip "address space limits and ASan do not mix"
	[ -z "${CHRONOPT_WRAP:-}" ] || skip "not under valgrind"
	run --separate-stderr bash -c 'ulimit -v 400000; exec "$0" "$@"' "$(command -v opt-forecast)" \
		--model "$M" --values 1,2,3,4,5 --steps 100000 --num-samples 100000
	assert_failure 4
	[ -z "$output" ]
	[[ "$stderr" =~ ^opt-forecast:\ out\ of\ memory\ allocating\ [0-9]+\ bytes$ ]]
}

@test "a Chronos-Bolt directory gives its quantiles, the median as the point, and rolls out past prediction_length" {
	B="$CHRONOPT_ROOT/testdata/bolt/tiny"
	run --separate-stderr opt-forecast --model "$B" --values 5,6,7,8,9,8,7,6,5,6 --steps 19
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/b.json"
	jq -e '.family == "chronos-bolt" and .steps == 19 and .prediction_length == 8 and .settings == {"context_length": 64}' "$BATS_TEST_TMPDIR/b.json"
	jq -e '(.quantiles | keys) == ["0.1","0.2","0.3","0.4","0.5","0.6","0.7","0.8","0.9"] and all(.quantiles[]; length == 19)' "$BATS_TEST_TMPDIR/b.json"
	jq -e '.median == .quantiles["0.5"] and (has("samples") | not)' "$BATS_TEST_TMPDIR/b.json"
	# deterministic: no seed, same numbers every run
	run --separate-stderr opt-forecast --model "$B" --values 5,6,7,8,9,8,7,6,5,6 --steps 19
	assert_output "$(cat "$BATS_TEST_TMPDIR/b.json")"
	# levels the model does not have are interpolated, asked ones only
	run --separate-stderr opt-forecast --model "$B" --values 5,6,7,8,9,8,7,6,5,6 --quantiles 0.05,0.5,0.975
	assert_success
	echo "$output" | jq -e '(.quantiles | keys) == ["0.05","0.5","0.975"]'
}

@test "sampling options with a Chronos-Bolt model are usage errors that say why" {
	B="$CHRONOPT_ROOT/testdata/bolt/tiny"
	for o in "--num-samples 5" "--temperature 0.5" "--top-k 3" "--top-p 0.9" "--seed 1" "--tokens"; do
		run --separate-stderr opt-forecast --model "$B" --values 1,2,3 $o
		assert_failure 2
		[[ "$stderr" == "opt-forecast: ${o%% *}: chronos-bolt is a quantile model: it draws no samples"* ]]
		[ -z "$output" ]
	done
	run --separate-stderr opt-forecast --model "$B" --values 1,2,3 --quantiles 0.5,1.5
	assert_failure 2
	run --separate-stderr opt-forecast --model "$M" --values 1,2,3 --quantiles 0.5
	assert_failure 2
	[[ "$stderr" == "opt-forecast: --quantiles goes with a quantile model"* ]]
}

@test "model families: a Chronos-2 config is read as Chronos-2, an unknown architecture is refused, both exit 3" {
	d="$BATS_TEST_TMPDIR/c2"
	mkdir "$d"
	printf '{"architectures":["Chronos2Model"],"chronos_pipeline_class":"Chronos2Pipeline","chronos_config":{"output_patch_size":16}}\n' >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[ "$stderr" = "opt-forecast: $d/config.json: chronos_config: 'context_length' is missing" ]
	run --separate-stderr opt-backtest --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model "$d" --origins 2
	assert_failure 3
	[ "$stderr" = "opt-backtest: $d/config.json: chronos_config: 'context_length' is missing" ]
	printf '{"architectures":["LlamaForCausalLM"]}\n' >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/config.json: architecture 'LlamaForCausalLM' is not a Chronos model"* ]]
	printf '{"chronos_pipeline_class":"TimesFmPipeline"}\n' >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/config.json: pipeline class 'TimesFmPipeline' is not supported"* ]]
}

@test "a Chronos-2 directory forecasts its quantiles; the median is the golden file's 0.5 level" {
	C="$CHRONOPT_ROOT/testdata/chronos2/tiny"
	vals=$(jq -r '.cases[] | select(.name == "single") | .series[0] | map(tostring) | join(",")' "$C/golden.json")
	run --separate-stderr opt-forecast --model "$C" --values "$vals" --steps 16
	assert_success
	echo "$output" >"$BATS_TEST_TMPDIR/c.json"
	jq -e '.family == "chronos-2" and .steps == 16 and .prediction_length == 16 and .context_used == 32' "$BATS_TEST_TMPDIR/c.json"
	jq -e '(.quantiles | length) == 21 and .median == .quantiles["0.5"] and (.model_levels | length) == 21' "$BATS_TEST_TMPDIR/c.json"
	# within 1e-4 of the PyTorch reference (scripts/chronos2_reference.py)
	jq -e --slurpfile g "$C/golden.json" '
		($g[0].cases[] | select(.name == "single") | .quantiles[0][10]) as $want
		| [.median, $want] | transpose | all(((.[0] - .[1]) | fabs) <= 1e-4 * (.[1] | fabs))' "$BATS_TEST_TMPDIR/c.json"
	# requested levels: model levels are picked, others interpolated between them
	run --separate-stderr opt-forecast --model "$C" --values "$vals" --steps 20 --quantiles 0.1,0.12,0.15
	assert_success
	echo "$output" | jq -e '(.quantiles | keys) == ["0.1","0.12","0.15"] and all(.quantiles[]; length == 20)'
	echo "$output" | jq -e '[.quantiles["0.1"], .quantiles["0.12"], .quantiles["0.15"]] | transpose
		| all(.[0] as $a | .[1] as $b | .[2] as $c | ($b - (0.6 * $a + 0.4 * $c)) | fabs <= 1e-3 * ($b | fabs))'
	# sampling options mean nothing to it
	run --separate-stderr opt-forecast --model "$C" --values "$vals" --num-samples 5
	assert_failure 2
	[[ "$stderr" == "opt-forecast: --num-samples: chronos-2 is a quantile model: it draws no samples"* ]]
}

@test "a Chronos-2 checkpoint with a missing, surplus or truncated tensor is refused naming the file and tensor" {
	C="$CHRONOPT_ROOT/testdata/chronos2/tiny"
	d="$BATS_TEST_TMPDIR/c2bad"
	mkdir "$d"
	cp "$C/model.safetensors" "$d/"
	# config says 3 layers: block 2's first tensor is missing from the file
	jq '.num_layers = 3' "$C/config.json" >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[ "$stderr" = "opt-forecast: $d/model.safetensors: tensor 'encoder.block.2.layer.0.layer_norm.weight' is missing" ]
	# config says 1 layer: block 1's tensors are surplus
	jq '.num_layers = 1' "$C/config.json" >"$d/config.json"
	run --separate-stderr opt-backtest --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model "$d" --origins 2
	assert_failure 3
	[[ "$stderr" == "opt-backtest: $d/model.safetensors: tensor 'encoder.block.1."*"' is not part of a Chronos-2 model with config.json's shape (1 layers)" ]]
	# a quantile more than the head has
	jq '.chronos_config.quantiles += [0.995]' "$C/config.json" >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[ "$stderr" = "opt-forecast: $d/model.safetensors: tensor 'output_patch_embedding.output_layer.weight' has shape [84, 32], expected [88, 32]" ]
	# a truncated download
	cp "$C/config.json" "$d/"
	head -c 40000 "$C/model.safetensors" >"$d/model.safetensors"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/model.safetensors: tensor '"*"' ends at byte "*", past the end of the data"* ]]
	rm "$d/model.safetensors"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 4
	[[ "$stderr" == "opt-forecast: cannot open '$d/model.safetensors'"* ]]
}

@test "a Chronos-Bolt config that does not fit its checkpoint, or lacks a key, is refused with exit 3" {
	d="$BATS_TEST_TMPDIR/b"
	mkdir "$d"
	cp "$CHRONOPT_ROOT/testdata/bolt/tiny/model.safetensors" "$d/"
	# one more quantile level than the head was trained for
	jq '.chronos_config.quantiles += [0.95]' "$CHRONOPT_ROOT/testdata/bolt/tiny/config.json" >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/model.safetensors: tensor 'output_patch_embedding.output_layer.weight' has shape [72, 64], expected [80, 64]"* ]]
	# no [REG] token: the stored two-row embedding is a mismatch
	jq '.chronos_config.use_reg_token = false' "$CHRONOPT_ROOT/testdata/bolt/tiny/config.json" >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/model.safetensors: tensor 'shared.weight' has shape [2, 32], expected [1, 32]"* ]]
	# fewer layers declared than stored
	jq '.num_layers = 1' "$CHRONOPT_ROOT/testdata/bolt/tiny/config.json" >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[[ "$stderr" == "opt-forecast: $d/model.safetensors: tensor 'encoder.block.1."*"' does not fit config.json (1 encoder layers)" ]]
	jq 'del(.chronos_config.input_patch_stride)' "$CHRONOPT_ROOT/testdata/bolt/tiny/config.json" >"$d/config.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3
	assert_failure 3
	[ "$stderr" = "opt-forecast: $d/config.json: chronos_config: 'input_patch_stride' is missing" ]
}

@test "the man page's Chronos-Bolt example runs" {
	cd "$CHRONOPT_ROOT"
	run --separate-stderr sh -c 'opt-forecast --model testdata/bolt/tiny --values 5,6,7,8,9,8,7,6 --steps 19 --quantiles 0.1,0.5,0.9 | jq -c .quantiles'
	assert_success
	echo "$output" | jq -e 'keys == ["0.1","0.5","0.9"] and all(.[]; length == 19)'
	grep -q 'opt\\-forecast \\-\\-model testdata/bolt/tiny \\-\\-values 5,6,7,8,9,8,7,6 \\e' man/man1/opt-forecast.1
}

@test "the man page's Chronos-2 example runs" {
	cd "$CHRONOPT_ROOT"
	run --separate-stderr sh -c 'opt-forecast --model testdata/chronos2/tiny --series testdata/usdclp_daily.csv --steps 7 --quantiles 0.1,0.5,0.9 | jq -c .quantiles'
	assert_success
	echo "$output" | jq -e 'keys == ["0.1","0.5","0.9"] and all(.[]; length == 7)'
	grep -q 'opt\\-forecast \\-\\-model testdata/chronos2/tiny \\-\\-series testdata/usdclp_daily.csv \\e' man/man1/opt-forecast.1
}

@test "missing values in the context: refused by default, read as missing by Chronos with --missing nan" {
	cd "$BATS_TEST_TMPDIR"
	printf 'date,value\n2024-01-01,10\n2024-01-02,11\n2024-01-03,NA\n2024-01-04,12\n2024-01-05,\n2024-01-08,13\n' >na.csv
	run --separate-stderr opt-forecast --model "$M" --series na.csv --steps 3 --num-samples 4
	assert_failure 3
	[ "$stderr" = "opt-forecast: na.csv:4: missing value 'NA' (--missing nan keeps it, --missing drop leaves the row out)" ]
	run --separate-stderr opt-forecast --model "$M" --series na.csv --missing nan --steps 3 --num-samples 4 --tokens
	assert_success
	# scale = mean |x| over the 4 observed values = 11.5; NaN -> PAD (id 0); EOS (1) appended
	[ "$(jq '.scale' <<<"$output")" = 11.5 ]
	[ "$(jq -c '[.input_token_ids[2], .input_token_ids[4], .input_token_ids[6], (.input_token_ids | length)]' <<<"$output")" = '[0,0,1,7]' ]
	[ "$(jq -c '[.input_token_ids[0,1,3,5] | . > 1] | unique' <<<"$output")" = '[true]' ]
	run --separate-stderr opt-forecast --model "$M" --values 1,2 --missing nan
	assert_failure 2
}

@test "--config takes the model and the five settings of a deployed config; options win over it" {
	cd "$BATS_TEST_TMPDIR"
	printf '{"horizon":"7d","context_length":4,"num_samples":3,"temperature":0.7,"top_k":5,"top_p":0.9,"model":{"dir":"%s"}}\n' "$M" >7d.json
	run --separate-stderr opt-forecast --config 7d.json --values 1,2,3,4,5,6 --steps 2 --seed 1
	assert_success
	echo "$output" | jq -e '.settings == {"context_length":4,"num_samples":3,"temperature":0.7,"top_k":5,"top_p":0.9} and
		.context_used == 4 and (.samples | length) == 3'
	a=$(echo "$output" | jq -c .samples)
	# the same as typing the settings
	b=$(opt-forecast --model "$M" --values 1,2,3,4,5,6 --steps 2 --seed 1 --context-length 4 --num-samples 3 \
		--temperature 0.7 --top-k 5 --top-p 0.9 | jq -c .samples)
	[ "$a" = "$b" ]
	run --separate-stderr opt-forecast --config 7d.json --values 1,2,3,4,5,6 --steps 2 --top-p 0.5
	assert_success
	echo "$output" | jq -e '.settings.top_p == 0.5 and .settings.top_k == 5'
	# the same domain as everywhere: top_p 0 is refused from the file and from the option
	sed -i 's/"top_p":0.9/"top_p":0/' 7d.json
	run --separate-stderr opt-forecast --config 7d.json --values 1,2,3
	assert_failure 3
	[ "$stderr" = "opt-forecast: 7d.json: 'top_p' must be a number in (0, 1]" ]
	[ -z "$output" ]
	run --separate-stderr opt-forecast --model "$M" --values 1,2,3 --top-p 0
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-forecast: --top-p: '0' is not in (0, 1]" ]
	echo '{"horizon":"7d","context_length":4,"num_samples":3}' >nomodel.json
	run --separate-stderr opt-forecast --config nomodel.json --values 1,2,3
	assert_failure 3
	[ "$stderr" = "opt-forecast: nomodel.json: names no model (\"model\".\"dir\"): give --model" ]
}

@test "--config for a quantile model: only context_length; a sampling setting in the file is refused saying why" {
	cd "$BATS_TEST_TMPDIR"
	for d in bolt/tiny chronos2/tiny; do
		printf '{"horizon":"7d","context_length":6,"num_samples":1,"temperature":1,"top_k":0,"top_p":0.95,"model":{"dir":"%s"}}\n' \
			"$CHRONOPT_ROOT/testdata/$d" >q.json
		run --separate-stderr opt-forecast --config q.json --values 1,2,3,4,5,6,7,8 --steps 2
		assert_failure 3
		[[ "$stderr" == "opt-forecast: q.json: 'top_p' is 0.94999999999999996, but chronos-"*" is a quantile model: it draws no samples, so num_samples, temperature, top_k and top_p must be 1, 1, 0 and 1" ]]
		[ -z "$output" ]
		sed -i 's/"top_p":0.95/"top_p":1/' q.json
		run --separate-stderr opt-forecast --config q.json --values 1,2,3,4,5,6,7,8 --steps 2
		assert_success
		echo "$output" | jq -e '.settings == {"context_length": 6} and .context_used == 6'
	done
}

# ---------------------------------------------------------------- checkpoints

# refused DIR CODE MESSAGE — opt-forecast and opt-backtest both refuse the
# checkpoint DIR with exit CODE and exactly MESSAGE (after "tool: "), and
# write nothing: no stdout, no --samples file.
refused() {
	local d=$1 code=$2 msg=$3 s="$BATS_TEST_TMPDIR/samples.json"
	run --separate-stderr opt-forecast --model "$d" --values 1,2,3,4,5,6,7,8
	assert_failure "$code"
	[ "$stderr" = "opt-forecast: $msg" ]
	[ -z "$output" ]
	run --separate-stderr opt-backtest --series "$CHRONOPT_ROOT/testdata/usdclp_daily.csv" --model "$d" \
		--origins 2 --context-length 8 --samples "$s"
	assert_failure "$code"
	[ "$stderr" = "opt-backtest: $msg" ]
	[ -z "$output" ]
	[ ! -e "$s" ]
}

# poke FILE OFFSET HEXBYTES — overwrite bytes of FILE in place.
poke() {
	printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# data_at FILE TENSOR — byte offset of TENSOR's data in a safetensors FILE.
data_at() {
	local hl
	hl=$(od -An -t u8 -N8 "$1" | tr -d ' ')
	echo $((8 + hl + $(tail -c +9 "$1" | head -c "$hl" | jq --arg t "$2" '.[$t].data_offsets[0]')))
}

@test "a NaN or infinite weight is refused naming the file, the tensor and the index" {
	d="$BATS_TEST_TMPDIR/nan"
	cp -r "$M" "$d"
	t=decoder.final_layer_norm.weight
	poke "$d/model.safetensors" $(( $(data_at "$d/model.safetensors" $t) + 4 * 3 )) 0000c07f
	refused "$d" 3 "$d/model.safetensors: tensor '$t' holds NaN at index 3: the checkpoint is corrupt"
	cp "$M/model.safetensors" "$d/"
	poke "$d/model.safetensors" $(( $(data_at "$d/model.safetensors" $t) + 4 * 63 )) 000080ff
	refused "$d" 3 "$d/model.safetensors: tensor '$t' holds an infinite value at index 63: the checkpoint is corrupt"
	# a BF16 checkpoint (converted on load) and a Chronos-2 one are checked the same way
	d2="$BATS_TEST_TMPDIR/nan2"
	cp -r "$CHRONOPT_ROOT/testdata/chronos2/bf16" "$d2"
	t=encoder.final_layer_norm.weight
	poke "$d2/model.safetensors" $(( $(data_at "$d2/model.safetensors" $t) + 2 * 5 )) c07f
	refused "$d2" 3 "$d2/model.safetensors: tensor '$t' holds NaN at index 5: the checkpoint is corrupt"
}

@test "a safetensors header that is not UTF-8 is refused naming the file and the byte" {
	d="$BATS_TEST_TMPDIR/utf"
	cp -r "$M" "$d"
	at=$(grep -abo '"format":"pt"' "$d/model.safetensors" | head -1 | cut -d: -f1)
	poke "$d/model.safetensors" $((at + 10)) ff
	refused "$d" 3 "$d/model.safetensors: header is not UTF-8 (byte 0xff at header offset $((at + 10 - 8)))"
	# an overlong encoding of '/' is not UTF-8 either
	cp "$M/model.safetensors" "$d/"
	poke "$d/model.safetensors" $((at + 10)) c0af
	refused "$d" 3 "$d/model.safetensors: header is not UTF-8 (byte 0xc0 at header offset $((at + 10 - 8)))"
}

@test "an activation the forward pass does not have is refused, in every family" {
	d="$BATS_TEST_TMPDIR/act"
	cp -r "$M" "$d"
	jq '.dense_act_fn = "tanh"' "$M/config.json" >"$d/config.json"
	refused "$d" 3 "$d/config.json: activation 'tanh' is not supported (relu, gelu_new, gelu, silu)"
	jq 'del(.dense_act_fn, .is_gated_act) | .feed_forward_proj = "gated-mish"' "$M/config.json" >"$d/config.json"
	refused "$d" 3 "$d/config.json: activation 'mish' is not supported (relu, gelu_new, gelu, silu)"
	jq '.feed_forward_proj = "relu-gated"' "$M/config.json" >"$d/config.json"
	refused "$d" 3 "$d/config.json: 'feed_forward_proj' 'relu-gated' is not 'ACT' or 'gated-ACT'"
	d2="$BATS_TEST_TMPDIR/act2"
	cp -r "$CHRONOPT_ROOT/testdata/chronos2/tiny" "$d2"
	jq '.dense_act_fn = "elu"' "$CHRONOPT_ROOT/testdata/chronos2/tiny/config.json" >"$d2/config.json"
	refused "$d2" 3 "$d2/config.json: activation 'elu' is not supported (relu, gelu_new, gelu, silu)"
	d3="$BATS_TEST_TMPDIR/act3"
	cp -r "$CHRONOPT_ROOT/testdata/bolt/tiny" "$d3"
	jq '.dense_act_fn = "quick_gelu"' "$CHRONOPT_ROOT/testdata/bolt/tiny/config.json" >"$d3/config.json"
	refused "$d3" 3 "$d3/config.json: activation 'quick_gelu' is not supported (relu, gelu_new, gelu, silu)"
}

@test "generation_config.json: its decoder start id is used; one that contradicts config.json is refused" {
	d="$BATS_TEST_TMPDIR/gen"
	cp -r "$M" "$d"
	base=$(opt-forecast --model "$M" --values 1,2,3,4,5,6 --steps 3 --num-samples 4 --seed 5 | jq -c .samples)
	# config.json without decoder_start_token_id: generation_config.json's is the one used
	jq 'del(.decoder_start_token_id)' "$M/config.json" >"$d/config.json"
	echo '{"decoder_start_token_id":0,"eos_token_id":1,"pad_token_id":0}' >"$d/generation_config.json"
	[ "$(opt-forecast --model "$d" --values 1,2,3,4,5,6 --steps 3 --num-samples 4 --seed 5 | jq -c .samples)" = "$base" ]
	echo '{"decoder_start_token_id":7,"eos_token_id":[1]}' >"$d/generation_config.json"
	other=$(opt-forecast --model "$d" --values 1,2,3,4,5,6 --steps 3 --num-samples 4 --seed 5 | jq -c .samples)
	[ -n "$other" ] && [ "$other" != "$base" ]
	# config.json says 0, generation_config.json 7: which one HF would use depends on the call; refused
	cp "$M/config.json" "$d/"
	refused "$d" 3 "$d/generation_config.json: decoder_start_token_id 7 disagrees with config.json's 0"
	echo '{"eos_token_id":[2,3]}' >"$d/generation_config.json"
	refused "$d" 3 "$d/generation_config.json: eos_token_id does not include config.json's chronos_config eos_token_id 1, the token the sampler keeps out"
	echo '{"decoder_start_token_id":600}' >"$d/generation_config.json"
	refused "$d" 3 "$d/generation_config.json: 'decoder_start_token_id' must be an integer in [0, 511]"
	echo '{"eos_token_id":"</s>"}' >"$d/generation_config.json"
	refused "$d" 3 "$d/generation_config.json: 'eos_token_id' must be a token id in [0, 511] or a list of them"
	echo '[' >"$d/generation_config.json"
	refused "$d" 3 "$d/generation_config.json: not a valid JSON object"
	# Chronos-Bolt: its decoder start must fit its 1- or 2-token embedding
	d3="$BATS_TEST_TMPDIR/genb"
	cp -r "$CHRONOPT_ROOT/testdata/bolt/tiny" "$d3"
	echo '{"decoder_start_token_id":0}' >"$d3/generation_config.json"
	run --separate-stderr opt-forecast --model "$d3" --values 1,2,3,4,5,6,7,8
	assert_success
	echo '{"decoder_start_token_id":5}' >"$d3/generation_config.json"
	n=$(jq '.chronos_config.use_reg_token // false | if . then 1 else 0 end' "$d3/config.json")
	refused "$d3" 3 "$d3/generation_config.json: 'decoder_start_token_id' must be an integer in [0, $n]"
}

@test "a sharded checkpoint (model.safetensors.index.json) gives exactly the forecasts of the single file" {
	for src in chronos/relu-tied chronos/bf16-override bolt/tiny chronos2/tiny; do
		d="$BATS_TEST_TMPDIR/sh-${src//\//-}"
		"$CHRONOPT_ROOT/scripts/shard-safetensors" "$CHRONOPT_ROOT/testdata/$src" "$d" 3
		[ ! -e "$d/model.safetensors" ] && [ -f "$d/model-00003-of-00003.safetensors" ]
		a=$(opt-forecast --model "$CHRONOPT_ROOT/testdata/$src" --values 5,6,7,8,9,8,7,6,5,6 --steps 5 | jq -c 'del(.model)')
		b=$(opt-forecast --model "$d" --values 5,6,7,8,9,8,7,6,5,6 --steps 5 | jq -c 'del(.model)')
		[ -n "$a" ] && [ "$a" = "$b" ]
	done
}

@test "a sharded checkpoint whose index and shards disagree is refused naming the file" {
	d="$BATS_TEST_TMPDIR/sh"
	"$CHRONOPT_ROOT/scripts/shard-safetensors" "$M" "$d" 2
	cp "$d/model.safetensors.index.json" "$BATS_TEST_TMPDIR/index.json"
	# the index puts a tensor in the other shard
	jq '.weight_map["shared.weight"] = "model-00001-of-00002.safetensors"' "$BATS_TEST_TMPDIR/index.json" >"$d/model.safetensors.index.json"
	refused "$d" 3 "$d/model-00002-of-00002.safetensors: tensor 'shared.weight' is in another shard in model.safetensors.index.json"
	# the index leaves a tensor out
	jq 'del(.weight_map["shared.weight"])' "$BATS_TEST_TMPDIR/index.json" >"$d/model.safetensors.index.json"
	refused "$d" 3 "$d/model-00002-of-00002.safetensors: tensor 'shared.weight' is not in model.safetensors.index.json's weight_map"
	# the index lists a tensor no shard has
	jq '.weight_map["extra.weight"] = "model-00001-of-00002.safetensors"' "$BATS_TEST_TMPDIR/index.json" >"$d/model.safetensors.index.json"
	refused "$d" 3 "$d/model.safetensors.index.json: tensor 'extra.weight' is not in its shard 'model-00001-of-00002.safetensors'"
	# a shard outside the directory
	jq '.weight_map["shared.weight"] = "../x.safetensors"' "$BATS_TEST_TMPDIR/index.json" >"$d/model.safetensors.index.json"
	refused "$d" 3 "$d/model.safetensors.index.json: weight_map: tensor 'shared.weight' names no plain shard file in the same directory"
	echo '{"metadata":{}}' >"$d/model.safetensors.index.json"
	refused "$d" 3 "$d/model.safetensors.index.json: not a JSON object with a \"weight_map\" object"
	# a shard missing from the directory is an I/O error
	cp "$BATS_TEST_TMPDIR/index.json" "$d/model.safetensors.index.json"
	rm "$d/model-00002-of-00002.safetensors"
	refused "$d" 4 "cannot open '$d/model-00002-of-00002.safetensors': No such file or directory"
}

@test "PyTorch-only and other weight formats, and other model families, say what was found and what is needed" {
	d="$BATS_TEST_TMPDIR/pt"
	mkdir "$d"
	cp "$M/config.json" "$d/"
	for w in pytorch_model.bin pytorch_model.bin.index.json tf_model.h5 flax_model.msgpack; do
		rm -f "$d"/*model*
		echo x >"$d/$w"
		case $w in
		pytorch_model.bin) what="PyTorch weights (pytorch_model.bin)" ;;
		pytorch_model.bin.index.json) what="sharded PyTorch weights (pytorch_model.bin.index.json)" ;;
		tf_model.h5) what="TensorFlow weights (tf_model.h5)" ;;
		flax_model.msgpack) what="Flax weights (flax_model.msgpack)" ;;
		esac
		refused "$d" 3 "$d: holds $what but no model.safetensors: chronopt reads safetensors only (convert it, e.g. save_pretrained(..., safe_serialization=True))"
	done
	# other model families are named, with the ones that run
	printf '{"architectures":["TimesFmModelForPrediction"]}\n' >"$d/config.json"
	refused "$d" 3 "$d/config.json: architecture 'TimesFmModelForPrediction' is not a Chronos model (T5ForConditionalGeneration, ChronosBoltModelForForecasting, Chronos2Model)"
	printf '{"model_type":"t5","d_model":64}\n' >"$d/config.json"
	refused "$d" 3 "$d/config.json: no 'chronos_config' block: not a Chronos checkpoint"
}

# ensemble FILE W1 CTX1 NS1 T1 W2 CTX2 NS2 T2 — two configs of the test model
ensemble_file() {
	jq -n --arg m "$M" --argjson w1 "$2" --argjson c1 "$3" --argjson n1 "$4" --argjson t1 "$5" \
		--argjson w2 "$6" --argjson c2 "$7" --argjson n2 "$8" --argjson t2 "$9" '
		{horizon: "7d", context_length: ([$c1, $c2] | max), num_samples: ([$n1, $n2] | max),
		 temperature: 1, top_k: 0, top_p: 1,
		 ensemble: [{weight: $w1, model: {dir: $m, sha256: null},
		             config: {context_length: $c1, num_samples: $n1, temperature: $t1, top_k: 0, top_p: 1}},
		            {weight: $w2, model: {dir: $m, sha256: null},
		             config: {context_length: $c2, num_samples: $n2, temperature: $t2, top_k: 0, top_p: 1}}]}' >"$1"
}

@test "an ensemble config: each member forecasts as alone, the point is their weighted sum, the rows their mixture" {
	cd "$BATS_TEST_TMPDIR"
	ensemble_file ens.json 0.25 12 8 0.8 0.75 20 6 1.2
	V=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25
	run --separate-stderr opt-forecast --config ens.json --values $V --steps 4 --seed 5
	assert_success
	echo "$output" >e.json
	[ "$(jq -r .model e.json)" = ensemble ]
	[ "$(jq '.samples | length' e.json)" = 8 ]
	for i in 0 1; do
		jq ".ensemble[$i].config + {model: {dir: \"$M\"}}" ens.json >m$i.json
		opt-forecast --config m$i.json --values $V --steps 4 --seed 5 >a$i.json
		# the member's own point forecast is its forecast alone, bit for bit
		[ "$(jq -c ".members[$i].point" e.json)" = "$(jq -c .median a$i.json)" ]
	done
	# the point: 0.25 x member 1 + 0.75 x member 2
	jq -e --slurpfile a a0.json --slurpfile b a1.json '
		[range(0; 4) as $h | (.point[$h] - (0.25 * $a[0].median[$h] + 0.75 * $b[0].median[$h])) | fabs]
		| max < 1e-9' e.json
	# the rows: round(0.25 x 8) = 2 paths of member 1, then 6 of member 2
	jq -e --slurpfile a a0.json --slurpfile b a1.json \
		'.samples[0:2] == $a[0].samples[0:2] and .samples[2:8] == $b[0].samples[0:6]' e.json
	jq -e '.settings.context_length == 20 and .settings.num_samples == 8' e.json
	# --num-samples changes the mixture's rows, not the members
	opt-forecast --config ens.json --values $V --steps 4 --seed 5 --num-samples 12 >n.json
	jq -e --slurpfile e e.json '(.samples | length) == 12 and .point == $e[0].point' n.json
}

@test "an ensemble config: --model, --tokens and a missing --steps are usage errors" {
	cd "$BATS_TEST_TMPDIR"
	ensemble_file ens.json 0.5 12 8 0.8 0.5 20 6 1.2
	run --separate-stderr opt-forecast --config ens.json --model "$M" --values 1,2,3 --steps 2
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-forecast: --model does not go with an ensemble config (its members name theirs)" ]
	run --separate-stderr opt-forecast --config ens.json --values 1,2,3 --steps 2 --tokens
	assert_failure 2
	run --separate-stderr opt-forecast --config ens.json --values 1,2,3
	assert_failure 2
	[ "${stderr_lines[0]}" = "opt-forecast: --steps is required with an ensemble config" ]
}

@test "malformed ensemble configs are bad input (3), one line naming the file and the member" {
	cd "$BATS_TEST_TMPDIR"
	C='"config":{"context_length":12,"num_samples":4}'
	D='"model":{"dir":"drift"}'
	printf '{"ensemble":[{"weight":0.5,%s,%s},{"weight":0.6,%s,%s}]}' "$D" "$C" "$D" "$C" >sum.json
	printf '{"ensemble":[{"weight":-0.5,%s,%s},{"weight":1.5,%s,%s}]}' "$D" "$C" "$D" "$C" >neg.json
	printf '{"ensemble":[]}' >empty.json
	printf '{"ensemble":[{"weight":1,%s,%s,"ensemble":[{"weight":1,%s,%s}]}]}' "$D" "$C" "$D" "$C" >nested.json
	printf '{"ensemble":[{"weight":0.5,%s,%s},{"weight":0.5,"model":{"dir":"lstm"},%s}]}' "$D" "$C" "$C" >unknown.json
	printf '{"ensemble":[{"weight":1,"model":{"dir":"%s"},"config":{"context_length":12,"num_samples":1}}]}' \
		"$CHRONOPT_ROOT/testdata/bolt/tiny" >quantile.json
	for f in sum neg empty nested unknown quantile; do
		run --separate-stderr opt-forecast --config $f.json --values 1,2,3,4,5 --steps 2
		assert_failure 3
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" = 1 ]
		[[ "$stderr" == "opt-forecast: $f.json: "* ]]
	done
	run --separate-stderr opt-forecast --config sum.json --values 1,2,3 --steps 2
	[ "$stderr" = "opt-forecast: sum.json: the ensemble's weights sum to 1.1000000000000001, not 1" ]
	run --separate-stderr opt-forecast --config neg.json --values 1,2,3 --steps 2
	[ "$stderr" = "opt-forecast: neg.json: ensemble member 1: 'weight' must be a number in (0, 1]" ]
	run --separate-stderr opt-forecast --config empty.json --values 1,2,3 --steps 2
	[ "$stderr" = "opt-forecast: empty.json: 'ensemble' must list 1 to 64 members, not 0" ]
	run --separate-stderr opt-forecast --config nested.json --values 1,2,3 --steps 2
	[ "$stderr" = "opt-forecast: nested.json: ensemble member 1: is an ensemble itself (ensembles do not nest)" ]
	run --separate-stderr opt-forecast --config unknown.json --values 1,2,3 --steps 2
	[ "$stderr" = "opt-forecast: unknown.json: ensemble member 2: unknown model 'lstm' (expected random_walk, drift, seasonal_naive[:P] or a model directory)" ]
	run --separate-stderr opt-forecast --config quantile.json --values 1,2,3 --steps 2
	[[ "$stderr" == *"ensemble member 1: '$CHRONOPT_ROOT/testdata/bolt/tiny' is a chronos-bolt model: it forecasts quantiles"* ]]
}
