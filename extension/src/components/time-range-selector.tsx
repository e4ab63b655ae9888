import * as React from 'react';

import { TIME_RANGES, type TimeRangeId } from '../model/time-range';

export interface TimeRangeSelectorProps {
  value: TimeRangeId;
  onChange: (value: TimeRangeId) => void;
  /** Unique per tab instance: radio groups are grouped by name. */
  name: string;
}

/**
 * Native radio buttons: one Tab stop for the group, arrow keys move the selection, and
 * screen readers announce "radio, 2 of 4" with no ARIA of our own to get wrong.
 */
export function TimeRangeSelector({
  value,
  onChange,
  name,
}: TimeRangeSelectorProps): React.ReactElement {
  return (
    <fieldset className="ae-ranges">
      <legend>Time range</legend>
      {TIME_RANGES.map((option) => (
        <label key={option.id} title={option.description}>
          <input
            type="radio"
            name={name}
            value={option.id}
            checked={option.id === value}
            onChange={() => onChange(option.id)}
            aria-label={option.description}
          />
          <span>{option.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
