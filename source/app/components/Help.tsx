import {Box, Text} from 'ink';

export const keyHelp: ReadonlyArray<readonly [string, string]> = [
	['↑ ↓  j k', 'move'],
	['PgUp PgDn', 'page'],
	['g  G', 'top, bottom'],
	['Enter', 'show or hide details'],
	['s', 'scan now (a running scan covers it)'],
	['p', 'pin or unpin the container'],
	['x', 'exclude its image (asks first)'],
	['u', 'remove the exclusion matching its image'],
	['/', 'filter by name or image (Enter keeps, Esc clears)'],
	['a', 'only containers with updates or newer versions'],
	['o', 'sort: status, name, image, age, risk (with --vulns on)'],
	['?', 'this help'],
	['q  Ctrl-C', 'quit'],
];

export function Help({height}: {readonly height: number}) {
	return (
		<Box flexDirection='column' height={height} borderStyle='round' paddingX={1}>
			<Text bold>Keys (Esc or ? to close)</Text>
			{keyHelp.map(([keys, what]) => (
				<Text key={keys} wrap='truncate'>
					<Text bold>{keys.padEnd(12)}</Text>
					{what}
				</Text>
			))}
			<Text dimColor wrap='truncate'>* after an age: the result is from the last run, shown until this session checks again.</Text>
		</Box>
	);
}
