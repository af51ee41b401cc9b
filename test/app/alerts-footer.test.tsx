import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/app/components/App.tsx';
import {sessionAlertsAfterScan, sessionAlertsText, startSessionAlerts} from '../../source/core/alerts.ts';
import {renderSized, type Rendered} from '../helpers/render.tsx';
import {d, facts, modelWith, result, verdicts} from './fixtures.ts';

let rendered: Rendered | undefined;
afterEach(() => {
	rendered?.unmount();
	rendered = undefined;
});

const noActions = {scanNow() {}, togglePin() {}, exclude() {}, removeExclusionFor() {}};

describe('the footer counts the available events of the session', () => {
	it('says nothing before an event, then "N new since HH:MM" once a scan raises them', async () => {
		const model = modelWith([[facts('web'), verdicts.upToDate]]);
		rendered = renderSized(<App source={model} actions={noActions} color={false}/>, 120, 20);
		expect(rendered.lastFrame()).not.toMatch(/new since/);

		// Two containers fall behind in this session; one was already behind at start (not new).
		const since = new Date(2026, 10, 23, 14, 2);
		let alerts = startSessionAlerts(since, [result(facts('old'), {status: 'update-available', localDigest: d('1'), remoteDigest: d('2')})]);
		alerts = sessionAlertsAfterScan(alerts, [
			result(facts('old'), {status: 'update-available', localDigest: d('1'), remoteDigest: d('2')}),
			result(facts('api'), {status: 'update-available', localDigest: d('3'), remoteDigest: d('4')}),
			result(facts('db'), {status: 'update-available', localDigest: d('5'), remoteDigest: d('6')}),
		], new Date(2026, 10, 23, 14, 5));
		model.setAlerts(sessionAlertsText(alerts));
		await rendered.waitFor(frame => frame.includes('new since'), 'the alerts in the footer');
		expect(rendered.lastFrame()).toMatch(/2 new since 14:02/);
	});
});
