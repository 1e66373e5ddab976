import { memo } from "react";
import { hueFor, initials } from "../lib/format";

interface Props {
  name: string;
  url?: string | null;
  size?: number;
  online?: boolean;
}

export const Avatar = memo(function Avatar({ name, url, size = 36, online }: Props) {
  const style = { width: size, height: size, fontSize: Math.round(size * 0.38), "--hue": hueFor(name) } as React.CSSProperties;
  return (
    <span className="avatar" style={style} aria-hidden="true">
      {url ? <img src={url} alt="" width={size} height={size} /> : initials(name)}
      {online && <span className="presence-dot" />}
    </span>
  );
});
