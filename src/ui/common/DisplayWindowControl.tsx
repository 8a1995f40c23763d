import { createContext, useContext } from 'react';
import { FULL_WINDOW, type DisplayWindow } from './displayWindow';
import { RangeField } from './FormFields';

/** The page's display window, shared by every grey image it draws (GreyImage), and how to change it. */
export const DisplayWindowContext = createContext<{
  window: DisplayWindow;
  setWindow: (window: DisplayWindow) => void;
}>({
  window: FULL_WINDOW,
  setWindow: () => {},
});

/**
 * Sliders for the display window (centre and width over the 8-bit grey), and a button back to the full range. One
 * window for the whole page; the images the model is given are never changed by it.
 */
export function DisplayWindowControl({ name }: { name: string }) {
  const { window, setWindow } = useContext(DisplayWindowContext);
  return (
    <fieldset className="display-window">
      <legend>{name}</legend>
      <RangeField
        label="Window centre"
        min={0}
        max={255}
        step={1}
        value={Math.round(window.center)}
        shown={String(Math.round(window.center))}
        onChange={(center) => setWindow({ ...window, center })}
      />{' '}
      <RangeField
        label="Window width"
        min={8}
        max={256}
        step={1}
        value={window.width}
        shown={String(window.width)}
        onChange={(width) => setWindow({ ...window, width })}
      />{' '}
      <button
        type="button"
        onClick={() => setWindow(FULL_WINDOW)}
        disabled={window.center === FULL_WINDOW.center && window.width === FULL_WINDOW.width}
      >
        Full grey range
      </button>{' '}
      <small>Changes what is shown only; the model sees the images as loaded.</small>
    </fieldset>
  );
}
