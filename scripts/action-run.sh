#!/usr/bin/env bash
# The shell part of the mtasts GitHub Action (action.yml): audits the domains the action was
# given, writes the findings as SARIF, sets the step's outputs and summary, and exits as mtasts
# did: 0 when nothing reached fail-on, 1 when something did, 2 when mtasts could not run. The
# action uploads the SARIF log whatever the status, then the job fails on a non-zero one.
#
# Everything comes from the environment, so the script runs the same outside Actions (the test
# in tests/action.rs runs it against a loopback lab):
#   MTASTS            the mtasts binary (default: mtasts on PATH)
#   INPUT_DOMAINS     domains to audit, separated by whitespace
#   INPUT_FILE        a file listing domains, one per line (alerts point at its lines)
#   INPUT_PROFILE     rfc, sge or ncsc (default rfc)
#   INPUT_FAIL_ON     fail, warn or change (default fail)
#   INPUT_ARGS        more arguments for `mtasts check`, separated by whitespace
#   INPUT_SARIF_FILE  where to write the SARIF log (default mtasts.sarif)
#   GITHUB_OUTPUT, GITHUB_STEP_SUMMARY  files the runner reads back (default: none)
set -uo pipefail

mtasts=${MTASTS:-mtasts}
profile=${INPUT_PROFILE:-rfc}
fail_on=${INPUT_FAIL_ON:-fail}
list=${INPUT_FILE:-}
sarif=${INPUT_SARIF_FILE:-mtasts.sarif}
output=${GITHUB_OUTPUT:-/dev/null}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}

# Split on whitespace only: no glob in a domain or an argument is expanded.
set -f
# shellcheck disable=SC2206
domains=(${INPUT_DOMAINS:-})
# shellcheck disable=SC2206
extra=(${INPUT_ARGS:-})
set +f

if [ "${#domains[@]}" -eq 0 ] && [ -z "$list" ]; then
    echo "::error title=mtasts::give the domains to audit: the domains input, the file input, or both"
    echo "exit-code=2" >>"$output"
    exit 2
fi

args=(check --quiet --format sarif --profile "$profile" --fail-on "$fail_on")
if [ -n "$list" ]; then
    args+=(--file "$list")
fi
# The domains go after `--`, so that an option taking several values (--reports) stops before.
args+=("${extra[@]}" -- "${domains[@]}")

echo "mtasts ${args[*]} > $sarif"
"$mtasts" "${args[@]}" >"$sarif"
status=$?

echo "exit-code=$status" >>"$output"
if [ ! -s "$sarif" ]; then
    echo "::error title=mtasts::mtasts wrote no SARIF log (exit status $status); its message is above"
    exit "$status"
fi
echo "sarif-file=$sarif" >>"$output"

# Results by level. The log is mtasts's own pretty-printed JSON, where the rules (which carry a
# default level too) come before the results.
read -r errors warnings notes < <(awk '
    /^      "results": \[/ { in_results = 1 }
    in_results && /"level": "error"/ { errors++ }
    in_results && /"level": "warning"/ { warnings++ }
    in_results && /"level": "note"/ { notes++ }
    END { print errors + 0, warnings + 0, notes + 0 }
' "$sarif")
{
    echo "errors=$errors"
    echo "warnings=$warnings"
    echo "notes=$notes"
} >>"$output"

case $status in
    0) verdict="nothing reached \`--fail-on $fail_on\`" ;;
    2) verdict="mtasts could not run (exit status 2): the job fails" ;;
    3) verdict="nothing failed, but some checks could not be determined from this runner (exit status 3; \`args: --allow-inconclusive\` accepts that): the job fails" ;;
    *) verdict="findings reached \`--fail-on $fail_on\` (exit status $status): the job fails" ;;
esac
{
    echo "### mtasts: MTA-STS and TLS-RPT audit"
    echo
    echo "Profile \`$profile\`: $errors error(s), $warnings warning(s), $notes note(s); $verdict."
    echo "The findings are in \`$sarif\` (SARIF), uploaded to code scanning unless \`upload: false\`."
} >>"$summary"

exit "$status"
