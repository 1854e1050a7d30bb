#!/usr/bin/env bats
# The bundled demo models of the quantile families (models/chronos-bolt-demo,
# models/chronos-2-demo): each loads with the C tools and forecasts like a
# trained model, on a handful of windows.  A wrong loader (tensors swapped, the
# wrong end of the context, a missing [REG] token, levels mislabelled) or a
# damaged checkpoint fails these; so do random weights of the same shapes
# (checked with the trainers' --init plain: every test below fails).

load test_helper

# series VALUES...: the numbers as opt-forecast --values wants them
csvlist() { paste -sd, -; }

# a flat series around 100 with a small deterministic wiggle, 256 values
flat() { awk 'BEGIN { for (i = 0; i < 256; i++) printf "%.4f\n", 100 + 0.8 * sin(i * 1.3) + 0.5 * sin(i * 0.37) }'; }

# a level shift: 200 values around 100, then 56 around 160
shift_series() { awk 'BEGIN { for (i = 0; i < 256; i++) printf "%.4f\n", (i < 200 ? 100 : 160) + 0.5 * sin(i * 1.3) }'; }

check_model() { # DIR FAMILY NLEVELS
	local m=$CHRONOPT_ROOT/models/$1 out
	# the levels and family as the loader reads them
	out=$(opt-forecast --model "$m" --values "$(flat | csvlist)" --steps 30)
	jq -e --arg f "$2" --argjson n "$3" '.family == $f and (.model_levels | length) == $n
		and (.model_levels | index(0.5)) != null' <<<"$out"
	# flat series: every step's median within 2 of the level, the model's
	# levels in order at every step (no crossing), and a band that is neither
	# empty nor wider than the series' own range several times over
	jq -e '[.model_levels[] | tostring] as $l | .quantiles as $q
		| all(.median[]; . > 98 and . < 102)
		and all(range(0; 30); . as $t | all(range(1; $l | length); $q[$l[.]][$t] >= $q[$l[. - 1]][$t]))
		and all(range(0; 30); . as $t | ($q["0.9"][$t] - $q["0.1"][$t]) > 0.05 and ($q["0.9"][$t] - $q["0.1"][$t]) < 20)' <<<"$out"
	# a level shift 56 steps before the end: the forecast starts at the new
	# level (the last values), not at the series' mean (about 113)
	out=$(opt-forecast --model "$m" --values "$(shift_series | csvlist)" --steps 7)
	jq -e 'all(.median[]; . > 145 and . < 180)' <<<"$out"
	# scale-free: the same series x 1000 + 5 gives the same forecast x 1000 + 5
	local big
	big=$(opt-forecast --model "$m" --values "$(shift_series | awk '{ printf "%.4f\n", $1 * 1000 + 5 }' | csvlist)" --steps 7)
	jq -e --argjson b "$big" '[.median, $b.median] | transpose | all(((.[0] * 1000 + 5) - .[1] | fabs) < 1e-3 * (.[1] | fabs))' <<<"$out"
}

@test "models/chronos-bolt-demo loads and forecasts a flat series, a level shift, at any scale" {
	check_model chronos-bolt-demo chronos-bolt 9
}

@test "models/chronos-2-demo loads and forecasts a flat series, a level shift, at any scale" {
	check_model chronos-2-demo chronos-2 21
}

@test "the demo models forecast USD/CLP no worse than 1.3x the random walk's MASE on 20 origins, 7 steps" {
	# generous: the model cards report the 500-origin figures; a broken model
	# or loader is several times worse (random weights of the same shapes:
	# 14.8x the random walk's MASE for the Bolt shape)
	local csv=$CHRONOPT_ROOT/testdata/usdclp_daily.csv rw m r
	rw=$(opt-backtest --series "$csv" --model random_walk --steps 7 --origins 20 --context-length 512 --seed 42 | jq .metrics.mase)
	for m in chronos-bolt-demo chronos-2-demo; do
		r=$(opt-backtest --series "$csv" --model "$CHRONOPT_ROOT/models/$m" --steps 7 --origins 20 \
			--context-length 512 --seed 42 | jq .metrics.mase)
		echo "$m: MASE $r, random walk $rw"
		awk -v r="$r" -v w="$rw" 'BEGIN { exit !(r > 0 && r < 1.3 * w) }'
	done
}
