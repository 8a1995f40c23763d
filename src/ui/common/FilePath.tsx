import { Fragment } from 'react';

/**
 * A file's path (`archive.zip/chest_xray/test/NORMAL/IM-0001-0001.jpeg`) that may wrap after each `/` and, past that,
 * anywhere (`.file-path`): in a narrow table column it breaks between folders before it breaks inside a name, and never
 * pushes the other columns out of their section. The text stays the path (no added characters).
 */
export function FilePath({ path }: { path: string }) {
  const parts = path.split('/');
  return (
    <span className="file-path">
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </Fragment>
      ))}
    </span>
  );
}
