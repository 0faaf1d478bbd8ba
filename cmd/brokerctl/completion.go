package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// completion prints a completion script for bash or zsh.
func completion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		fmt.Fprintln(stderr, "usage: brokerctl completion bash|zsh")
		fmt.Fprintln(stderr, `  bash: source <(brokerctl completion bash)`)
		fmt.Fprintln(stderr, `  zsh:  source <(brokerctl completion zsh)`)
		return exitUsage
	}
	names := append(commandNames(), "completion", "help")
	sort.Strings(names)
	var cases strings.Builder
	for _, n := range commandNames() {
		fmt.Fprintf(&cases, "    %s) flags=%q ;;\n", n, strings.Join(commandFlags(n), " "))
	}
	if args[0] == "zsh" {
		// zsh runs bash completions through bashcompinit.
		fmt.Fprint(stdout, "autoload -U +X bashcompinit && bashcompinit\n")
	}
	fmt.Fprintf(stdout, `# brokerctl completion (%s)
_brokerctl() {
  local cur cmd flags i
  cur="${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "%s --url --json" -- "$cur"))
    return
  fi
  case "$cmd" in
%s    completion) flags="bash zsh" ;;
    *) flags="" ;;
  esac
  COMPREPLY=($(compgen -W "$flags" -- "$cur"))
}
complete -F _brokerctl brokerctl
`, args[0], strings.Join(names, " "), cases.String())
	return exitOK
}

// commandFlags lists a command's flags as --name.
func commandFlags(name string) []string {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	commands[name].flags(fs)
	out := []string{"--json", "--url"}
	fs.VisitAll(func(f *flag.Flag) { out = append(out, "--"+f.Name) })
	sort.Strings(out)
	return out
}
